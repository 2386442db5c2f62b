"""watcher.rules.text: one courier checkpoint text → one event.

The corpus (fixtures/texts.tsv) holds real-looking texts of many couriers; the
tables below pin the precedence decisions, negation and hedging, normalization,
the keyword data's shape, and the texts of the simulated provider and of the
recorded Kuaidi100 replies.
"""

from __future__ import annotations

import json
import random
import tomllib
from collections import Counter
from pathlib import Path

import pytest

import watcher.rules.text as text_module
from watcher.rules.text import Event, classify, normalize

HERE = Path(__file__).parent
CORPUS = HERE / "fixtures" / "texts.tsv"
KEYWORDS = Path(text_module.__file__).with_name("keywords.toml")
KUAIDI100_FIXTURES = HERE.parent / "carriers" / "kuaidi100" / "fixtures"


def _corpus() -> list[tuple[int, Event, str]]:
    rows = []
    for lineno, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, text = line.split("\t", 1)
        rows.append((lineno, Event(label), text))
    return rows


CORPUS_ROWS = _corpus()


def _why(text: str) -> str:
    return f"{text!r} → rule/cue {text_module._explain(text)!r}"


# --- the corpus ------------------------------------------------------------------------


@pytest.mark.parametrize(("lineno", "expected", "text"), CORPUS_ROWS, ids=[f"L{r[0]}" for r in CORPUS_ROWS])
def test_corpus(lineno: int, expected: Event, text: str) -> None:
    assert classify(text) is expected, _why(text)


def test_corpus_is_large_and_covers_every_event() -> None:
    counts = Counter(event for _, event, _ in CORPUS_ROWS)
    assert len(CORPUS_ROWS) >= 250
    for event in Event:
        assert counts[event] >= 8, f"{event}: only {counts[event]} texts"


def test_corpus_texts_are_sentences_not_bare_keywords() -> None:
    """Most corpus texts are phrasings, not a keyword of the toml lists verbatim."""
    data = tomllib.loads(KEYWORDS.read_text(encoding="utf-8"))
    keywords = {kw.casefold() for rule in data["rule"] for kw in rule.get("keywords", ())}
    verbatim = [t for _, _, t in CORPUS_ROWS if normalize(t) in keywords]
    assert len(verbatim) <= len(CORPUS_ROWS) // 10, verbatim  # short English statuses are keywords


# --- the vocabulary of the brief, cue by cue ----------------------------------------------

BRIEF_VOCABULARY = {
    Event.INFO: "已下单 等待揽收 已打包 商家已通知快递揽收 运单已生成",
    Event.COLLECTED: "已揽收 已收件 收取快件 揽件 揽投员已收件",
    Event.TRANSIT: "到达 离开 发往 已发出 转运中心 分拨中心 中转 运输中 装车 航空 干线 到达【深圳宝安公司】",
    Event.OUT_FOR_DELIVERY: "派件中 正在派送 正在为您派件 派送中 安排投递 投递员王军正在投递 快件交给张三，正在派送途中",
    Event.PICKUP_POINT: "驿站 快递柜 丰巢 代收点 自提点 取件码 已入柜 已暂存 请及时取件",
    Event.DELIVERED: "已签收 签收人：本人 妥投 本人签收 已取件 已代收",
    Event.FAILED_ATTEMPT: "电话无人接听 联系不上 客户不在 改约 预约再派 派送不成功 投递未成功 门卫不让进",
    Event.REFUSED: "拒收 拒签 客户拒绝签收",
    Event.RETURNING: "退回中 退件 已退回 返回寄件人 逆向 退回件",
    Event.RETURNED: "退回件已签收 退件已签收 寄件人已签收退件 已退回寄件人签收",
    Event.DAMAGED: "破损 外包装损坏 内件破损",
    Event.ADDRESS_PROBLEM: "地址不详 地址错误 地址有误 收件人电话错误 查无此人 电话号码错误 收件信息不全",
    Event.UNREACHABLE: (
        "超区 超出派送范围 不在派送范围 不派送 不提供派送服务 该区域暂不派送 偏远地区无法派送 转邮政 转EMS "
        "转邮政派送 需转寄 派送范围外"
    ),
    Event.LOST: "丢失 遗失 丢件 快件已丢失 无法找到快件",
    Event.CUSTOMS: "清关 海关 报关",
    Event.DELAYED: "延误 滞留 暂停派送 因天气原因 因疫情管控 积压 延迟派送",
}


@pytest.mark.parametrize(
    ("cue", "expected"), [(cue, event) for event, cues in BRIEF_VOCABULARY.items() for cue in cues.split()]
)
def test_brief_vocabulary(cue: str, expected: Event) -> None:
    assert classify(cue) is expected, _why(cue)


# --- precedence: texts that mix cues -----------------------------------------------------

MIXED = [
    # the cause of a problem before its consequence
    ("快件已被拒收，正在退回", Event.REFUSED),
    ("收件人拒签，快件将退回寄件人", Event.REFUSED),
    ("收件人地址不详，快件将退回寄件人", Event.ADDRESS_PROBLEM),
    ("外包装破损，收件人拒收，快件退回", Event.DAMAGED),
    ("快件破损且部分丢失，已登记理赔", Event.LOST),
    # the return's end is not a delivery to the buyer
    ("您的退回件已签收", Event.RETURNED),
    ("退回件已由寄件人签收，感谢使用", Event.RETURNED),
    # a return under way beats the failed attempts that caused it
    ("多次联系收件人未果，派送不成功，快件已退回寄件人", Event.RETURNING),
    # ... but "退回网点" is the outlet, not the sender
    ("客户不在，快件退回网点，明日再次派送", Event.FAILED_ATTEMPT),
    # where the parcel is now beats how it got there
    ("因收件人电话无人接听，快件无法派送，已放至驿站", Event.PICKUP_POINT),
    ("派送不成功，客户不在家，快件已存放至丰巢快递柜，请凭取件码取件", Event.PICKUP_POINT),
    # a locker or station "signing" means the parcel waits there; the buyer's own hands mean delivered
    ("快件已签收，签收人：快递柜", Event.PICKUP_POINT),
    ("已签收(丰巢签收)，感谢使用顺丰", Event.PICKUP_POINT),
    ("已签收，签收人凭取件码签收", Event.DELIVERED),
    ("快件已由菜鸟驿站签收，签收人：本人", Event.DELIVERED),
    ("您的快件已从快递柜取出，感谢使用", Event.DELIVERED),
    ("快件已由门卫代收", Event.DELIVERED),
    ("快件已由小区驿站代收，请及时取件", Event.PICKUP_POINT),
    # out of the delivery area, an address problem, a failed attempt, a delay
    ("该地址超出派送范围，转邮政派送", Event.UNREACHABLE),
    ("收件人地址不详，无法派送", Event.ADDRESS_PROBLEM),
    ("派送不成功，客户不在", Event.FAILED_ATTEMPT),
    ("无法派送", Event.UNREACHABLE),
    ("快件已到达【那曲营业部】，无法派送", Event.UNREACHABLE),
    ("今日无法派送，明日再派", Event.FAILED_ATTEMPT),
    ("今日无法派送", Event.DELAYED),
    ("因暴雨天气无法派送", Event.DELAYED),
    ("因疫情管控，该区域暂不派送", Event.DELAYED),
    ("该区域暂不派送", Event.UNREACHABLE),
    ("收件人电话无人接听，快件已滞留网点，改日派送", Event.FAILED_ATTEMPT),
    ("乡镇地址不派送，请到网点自取", Event.UNREACHABLE),
    ("收件地址不详且电话联系不上收件人", Event.ADDRESS_PROBLEM),
    ("收件人电话关机，联系不上", Event.FAILED_ATTEMPT),
    ("收件人电话空号", Event.ADDRESS_PROBLEM),
    # customs and collection over mere movement; collection at a station is collection
    ("包裹已完成清关，正在发往【上海转运中心】", Event.CUSTOMS),
    ("【武汉市】快件已揽收，准备发往【武汉转运中心】", Event.COLLECTED),
    ("您的快件已在【幸福里菜鸟驿站】完成揽收", Event.COLLECTED),
    ("【杭州市】【杭州余杭网点】的王建国已取件", Event.COLLECTED),
    # info before collection: 等待揽收 holds 揽收
    ("商家已通知中通快递揽收，等待快递员上门", Event.INFO),
    # delivery beats the courier named in the same text
    ("已签收，本人收，投递员：王军，电话：13912345678", Event.DELIVERED),
    ("未妥投，原因：收件人不在，投递员：王军", Event.FAILED_ATTEMPT),
]


@pytest.mark.parametrize(("text", "expected"), MIXED)
def test_precedence_of_mixed_cues(text: str, expected: Event) -> None:
    assert classify(text) is expected, _why(text)


# --- negation and hedging ------------------------------------------------------------------

NOT_DELIVERED = [
    "未签收",
    "快件未签收，请联系派件员",
    "签收失败",
    "客户拒绝签收",
    "收件人拒签",
    "未妥投，原因：收件人不在",
    "投递结果：未妥投",
    "退回件已签收",
    "正在派送途中,请您准备签收(派件人:王五,电话:13800000000)",
    "快件待签收",
    "Not delivered - recipient not available",
    "Not Delivered",
    "Could not be delivered",
    "Undelivered",
    "Your parcel will be delivered tomorrow",
    "Parcel has not yet been delivered",
    "Delivery attempted",
]


@pytest.mark.parametrize("text", NOT_DELIVERED)
def test_negated_or_pending_delivery_is_not_delivered(text: str) -> None:
    assert classify(text) is not Event.DELIVERED, _why(text)


HEDGED = [
    # advice and disclaimers are no events of their own
    ("快件已到达【海淀营业部】，请当面验货，如有破损请拒收", Event.TRANSIT),
    ("正在派送，签收前请检查外包装是否破损", Event.OUT_FOR_DELIVERY),
    ("您的快件已到达菜鸟驿站，请凭取件码取件，请妥善保管取件码以免遗失", Event.PICKUP_POINT),
    ("快件已到达邻里驿站，请凭取件码取件，超过3天未取将退回", Event.PICKUP_POINT),
    ("Available for pickup. Will be returned to sender if not collected within 14 days", Event.PICKUP_POINT),
    ("【深圳市】派送中，如您不在家，快件将放至驿站", Event.OUT_FOR_DELIVERY),
    ("已签收，如有疑问请联系驿站：13800000000", Event.DELIVERED),
    ("您的快件已签收，如发现包裹破损或丢失请联系客服", Event.DELIVERED),
    ("您的快件已签收，如需退货请联系商家", Event.DELIVERED),
    ("快件已签收，外包装完好，无破损", Event.DELIVERED),
    ("【邻里驿站】您的快件已到站，取件码5-1-2033，请于3日内取件，未在规定时间内取件，将被退回", Event.PICKUP_POINT),
    ("正在派送，外包装破损请拒收", Event.OUT_FOR_DELIVERY),
    ("快件已存入丰巢柜，取件码丢失请联系客服", Event.PICKUP_POINT),
    ("快件已到达【武汉转运中心】，错分，退回分拨中心重新分拣", Event.DELAYED),
    ("快件已送达【深圳宝安营业部】", Event.TRANSIT),
    ("已揽收，疫情期间每天对网点消毒，小哥每日测温", Event.COLLECTED),
]


@pytest.mark.parametrize(("text", "expected"), HEDGED)
def test_hedged_cues_do_not_count(text: str, expected: Event) -> None:
    assert classify(text) is expected, _why(text)


PLACE_NAMES = [
    # cue words inside place names, street names and staff names
    ("快件已到达【郑州海关路营业部】", Event.TRANSIT),
    ("【杭州市】快件已到达 杭州丰巢路营业部", Event.TRANSIT),
    ("快件已到达【北京顺义派送中心】", Event.TRANSIT),
    ("【上海市】快件已到达【上海青浦配送中心】", Event.TRANSIT),
    ("派件员王超区域派送中，电话13800000000", Event.OUT_FOR_DELIVERY),
    ("【天津市】派件员：何若曦 电话：13900000000 正在为您派件", Event.OUT_FOR_DELIVERY),
]


@pytest.mark.parametrize(("text", "expected"), PLACE_NAMES)
def test_cue_words_inside_names_do_not_count(text: str, expected: Event) -> None:
    assert classify(text) is expected, _why(text)


# --- unknown is unknown --------------------------------------------------------------------

GIBBERISH = ["", "   ", "asdf qwer zxcv", "12345678", "……", "？？？", "新的状态", "快递", "lorem ipsum", "😀", "【】", "---"]


@pytest.mark.parametrize("text", GIBBERISH)
def test_gibberish_is_unknown_not_transit(text: str) -> None:
    assert classify(text) is Event.UNKNOWN


def test_random_noise_is_unknown() -> None:
    rng = random.Random(7)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ,.-#*@"
    for _ in range(200):
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        if any(word in noise.split() for word in ("rts", "hub", "arrive", "depart")):
            continue
        assert classify(noise) is Event.UNKNOWN, noise


# --- courier house styles ------------------------------------------------------------------

STYLES = [
    # EMS / China Post
    ("【北京市朝阳区望京揽投部】已收寄，揽投员：刘洋，电话：13612345678", Event.COLLECTED),
    ("离开【北京邮区中心局】，下一站【上海邮区中心局】", Event.TRANSIT),
    ("【上海市徐汇区揽投部】安排投递，投递员：赵强，电话：13512345678", Event.OUT_FOR_DELIVERY),
    ("【上海市徐汇区揽投部】已妥投，投递结果：本人收", Event.DELIVERED),
    ("投递结果：他人收，签收人：邻居", Event.DELIVERED),
    ("【上海市徐汇区揽投部】未妥投，原因：收件人不在，投递员：赵强", Event.FAILED_ATTEMPT),
    # SF
    ("快件交给张伟，正在派送途中（联系电话：13712345678）", Event.OUT_FOR_DELIVERY),
    ("已签收，感谢使用顺丰，期待再次为您服务", Event.DELIVERED),
    ("快件在【深圳宝安集散中心】完成分拣，准备发往【深圳南山营业点】", Event.TRANSIT),
    ("快件派送不成功(因电话无人接听/关机/无信号，暂无法联系到收方客户),正在处理中,待再次派送", Event.FAILED_ATTEMPT),
    # JD
    ("您的订单已由本人签收，感谢您在京东购物，欢迎再次光临", Event.DELIVERED),
    ("配送员开始配送，请您准备收货，配送员：王伟，手机号：13812345678", Event.OUT_FOR_DELIVERY),
    ("您的订单已出库", Event.INFO),
    ("货物已到达【北京亦庄站】", Event.TRANSIT),
    # Cainiao station, Hive Box locker
    ("您的快件已到达菜鸟驿站，请凭取件码 8-2-1103 取件", Event.PICKUP_POINT),
    ("已投递至丰巢智能柜，取件码 20481234", Event.PICKUP_POINT),
    ("【菜鸟驿站】您的包裹已出库，如有疑问请联系驿站", Event.DELIVERED),
    # ZTO / YTO / STO / Yunda / J&T / Best / Deppon
    ("【杭州市】【杭州余杭】的李强（13812345678）已揽收", Event.COLLECTED),
    ("【苏州转运中心公司】 已收入", Event.TRANSIT),
    ("【广东省深圳市宝安区福永公司】 派件中 派件人: 陈明 电话 13512345678", Event.OUT_FOR_DELIVERY),
    ("快件已到达【长沙转运中心】", Event.TRANSIT),
    ("江苏苏州昆山公司 进行派件扫描；派送业务员：王五；联系电话：13900000000", Event.OUT_FOR_DELIVERY),
    ("【福州市】快件离开【福州转运中心】，发往【厦门转运中心】", Event.TRANSIT),
    ("【厦门市】快件已签收，签收人：本人，感谢使用极兔速递", Event.DELIVERED),
    ("【百世快递】【宁波北仑分部】的派件员【李明】正在派件", Event.OUT_FOR_DELIVERY),
    ("德邦快递：运输中，离开【上海青浦枢纽中心】，下一站【杭州转运场】", Event.TRANSIT),
    # international, English
    ("Delivered", Event.DELIVERED),
    ("Out for delivery", Event.OUT_FOR_DELIVERY),
    ("Arrived at facility", Event.TRANSIT),
    ("Customs clearance", Event.CUSTOMS),
    ("Returned to sender", Event.RETURNING),
    ("Not delivered - recipient not available", Event.FAILED_ATTEMPT),
    ("Shipment information received", Event.INFO),
    ("Picked up by courier", Event.COLLECTED),
    ("Available for pickup at Post Office", Event.PICKUP_POINT),
    ("Recipient refused delivery", Event.REFUSED),
    ("Delivery delayed due to severe weather", Event.DELAYED),
    ("Address incorrect", Event.ADDRESS_PROBLEM),
    ("Outside delivery area", Event.UNREACHABLE),
    ("Package lost", Event.LOST),
    ("Package damaged", Event.DAMAGED),
    ("Return delivered to sender", Event.RETURNED),
]


@pytest.mark.parametrize(("text", "expected"), STYLES)
def test_courier_house_styles(text: str, expected: Event) -> None:
    assert classify(text) is expected, _why(text)


# --- texts of the other parts of parcelwatch -----------------------------------------------

SIMULATED_KIND = {
    "info": Event.INFO,
    "collected": Event.COLLECTED,
    "hub_arrive": Event.TRANSIT,
    "hub_depart": Event.TRANSIT,
    "city_arrive": Event.TRANSIT,
    "remote_note": Event.TRANSIT,
    "out_for_delivery": Event.OUT_FOR_DELIVERY,
    "delivered": Event.DELIVERED,
    "locker": Event.PICKUP_POINT,
    "failed_attempt": Event.FAILED_ATTEMPT,
    "unreachable": Event.UNREACHABLE,
    "refused": Event.REFUSED,
    "address_problem": Event.ADDRESS_PROBLEM,
    "returning": Event.RETURNING,
    "return_transit": Event.RETURNING,
    "returned": Event.RETURNED,
    "damaged": Event.DAMAGED,
    "lost": Event.LOST,
}


def test_simulated_provider_texts() -> None:
    """Every template of the simulated provider, with every staff name it can draw."""
    from carriers.simulated.phrases import GIVEN_NAMES, SHARED_TEMPLATES, STYLE_TEMPLATES, SURNAMES

    templates = [(kind, t) for style in STYLE_TEMPLATES.values() for kind, ts in style.items() for t in ts]
    templates += [(kind, t) for kind, ts in SHARED_TEMPLATES.items() for t in ts]
    lockers = ["菜鸟驿站", "鼓楼阳光花园菜鸟驿站", "丰巢智能快递柜", "万科城丰巢快递柜", "兔喜生活幸福里店", "妈妈驿站", "翠苑三区快递代收点"]
    wrong = []
    for kind, template in templates:
        assert kind in SIMULATED_KIND, f"new simulated kind {kind!r}: add it here"
        for surname in SURNAMES:
            for given in GIVEN_NAMES:
                for locker in lockers:
                    rendered = template.format_map(
                        {
                            "city": "深圳市", "outlet": "深圳宝安营业部", "hub": "深圳转运中心",
                            "next": "广州转运中心", "staff": surname + given, "phone": "13812345678",
                            "courier": "中通快递", "locker": locker, "code": "5-2-3011",
                            "post_no": "9876543210123", "ocity": "杭州市", "dest_city": "拉萨市",
                        }
                    )
                    if classify(rendered) is not SIMULATED_KIND[kind]:
                        wrong.append(_why(rendered))
    assert not wrong, wrong[:10]


KUAIDI100_TEXT = {
    # provider's own status name → what the text says
    "【昆明市邮区中心】已退回，退回原因：收件人地址不详": Event.ADDRESS_PROBLEM,  # the cause of the return
    "投递失败，原因：地址不详": Event.ADDRESS_PROBLEM,
    "收件人拒签，快件将退回寄件人": Event.REFUSED,
    "收件人拒收，原因：不想要了": Event.REFUSED,
    "快件正在派送中": Event.OUT_FOR_DELIVERY,
    "退回件已由寄件人签收": Event.RETURNED,
    "快件已退回，正在返回寄件人途中": Event.RETURNING,
    "快件到达【深圳南山科技园营业点】": Event.TRANSIT,
    "快件交给王师傅，正在派送途中": Event.OUT_FOR_DELIVERY,
    "顺丰速运 已收取快件": Event.COLLECTED,
    "快件已到达【郑州转运中心】": Event.TRANSIT,
    "【那曲网点】收件地址超出派送范围，已转邮政派送": Event.UNREACHABLE,
    "快件已到达【拉萨转运中心】": Event.TRANSIT,
    "新的状态": Event.UNKNOWN,
    "您的快件已到达【成都转运中心】": Event.TRANSIT,
    "您的快件离开【义乌转运中心】，已发往【成都转运中心】": Event.TRANSIT,
    "您的快件已送达【阳光小区菜鸟驿站】，请凭取件码及时领取": Event.PICKUP_POINT,
    "【南京鼓楼公司】派件员：李师傅 正在为您派件": Event.OUT_FOR_DELIVERY,
    "【杭州转运中心】已发出 下一站【南京转运中心】": Event.TRANSIT,
    "快件已到达【杭州转运中心】": Event.TRANSIT,
    "【杭州余杭】（0571-00000000）的小张（13800000000）已揽收": Event.COLLECTED,
}


def test_recorded_kuaidi100_texts() -> None:
    seen = {}
    for path in sorted(KUAIDI100_FIXTURES.glob("*.json")):
        for row in json.loads(path.read_text(encoding="utf-8")).get("data", []):
            context = row["context"]
            if context.startswith("您的快件已签收，如有疑问请电联快递员"):
                seen[context] = classify(context)
                assert classify(context) is Event.DELIVERED
                continue
            assert context in KUAIDI100_TEXT, f"new recorded text {context!r}: add it here"
            assert classify(context) is KUAIDI100_TEXT[context], _why(context)
            seen[context] = classify(context)
    assert len(seen) >= 15


# --- normalization -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("【深圳市】快件已到达 【深圳宝安公司】", "深圳市快件已到达深圳宝安公司"),
        ("派件员：王师傅　电话：１３８１２３４５６７８", "派件员:王师傅电话:13812345678"),
        ("快件交给王五，正在派送途中（联系电话：138）", "快件交给王五,正在派送途中联系电话:138"),
        ("  Out   for\tDelivery  ", "out for delivery"),
        ("Delivered, Front Door/Porch", "delivered, front door/porch"),
        ("已簽收，感謝使用順豐", "已签收,感謝使用順豐"),
        ("客户己签收", "客户已签收"),
        ("派件中&nbsp;&nbsp;派件员电话<br>13800000000", "派件中派件员电话13800000000"),
        ("“丰巢”智能柜", "丰巢智能柜"),
        ("", ""),
    ],
)
def test_normalize(raw: str, normalized: str) -> None:
    assert normalize(raw) == normalized


def test_normalize_is_idempotent() -> None:
    for _, _, text in CORPUS_ROWS:
        once = normalize(text)
        assert normalize(once) == once


def test_full_width_and_half_width_texts_agree() -> None:
    assert classify("ＯＵＴ ＦＯＲ ＤＥＬＩＶＥＲＹ") is Event.OUT_FOR_DELIVERY
    assert classify("快件已签收，签收人：快递柜") is classify("快件已签收,签收人:快递柜")


# --- the module and its data ---------------------------------------------------------------


def test_public_names() -> None:
    assert set(text_module.__all__) == {"Event", "classify", "normalize"}


def test_event_values() -> None:
    assert {e.value for e in Event} == {
        "info", "collected", "transit", "out_for_delivery", "pickup_point", "delivered",
        "failed_attempt", "refused", "returning", "returned", "damaged", "address_problem",
        "unreachable", "lost", "customs", "delayed", "unknown",
    }
    assert Event("delivered") is Event.DELIVERED and str(Event.DELIVERED) == "delivered"


def test_keywords_file_is_documented_data() -> None:
    data = tomllib.loads(KEYWORDS.read_text(encoding="utf-8"))
    rules = data["rule"]
    names = [r["name"] for r in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert rule.get("note", "").strip(), f"rule {rule['name']!r} has no note"
        assert rule.get("keywords") or rule.get("patterns"), rule["name"]
        Event(rule["event"])  # a valid event
        assert set(rule) <= {"name", "event", "note", "keywords", "patterns", "not_after", "not_before"}, rule["name"]
    events = {Event(r["event"]) for r in rules}
    assert events == set(Event) - {Event.UNKNOWN}
    # the precedence the module docstring documents is the file order
    doc = " ".join(text_module.__doc__.split())
    assert " > ".join(names) in doc


def test_compiled_rules_follow_file_order() -> None:
    data = tomllib.loads(KEYWORDS.read_text(encoding="utf-8"))
    assert [r.name for r in text_module._GRAMMAR.rules] == [r["name"] for r in data["rule"]]


def test_bad_keyword_data_is_refused() -> None:
    data = tomllib.loads(KEYWORDS.read_text(encoding="utf-8"))
    data["rule"].append(dict(data["rule"][0]))
    with pytest.raises(ValueError, match="twice"):
        text_module._compile(data)
    data = tomllib.loads(KEYWORDS.read_text(encoding="utf-8"))
    data["rule"][0]["event"] = "teleported"
    with pytest.raises(ValueError):
        text_module._compile(data)
    data = tomllib.loads(KEYWORDS.read_text(encoding="utf-8"))
    data["rule"][0]["not_befor"] = ["x"]
    with pytest.raises(ValueError, match="unknown keys"):
        text_module._compile(data)


def test_classify_is_pure_and_cached() -> None:
    classify.cache_clear()
    first = classify("快件已到达【杭州转运中心】")
    assert classify("快件已到达【杭州转运中心】") is first
    info = classify.cache_info()
    assert info.hits == 1 and info.misses == 1


def test_every_rule_decides_some_corpus_text() -> None:
    """No dead rule: each one is the deciding rule of at least one labelled text."""
    deciding = {text_module._explain(t)[0] for _, _, t in CORPUS_ROWS if text_module._explain(t)}
    deciding |= {text_module._explain(t)[0] for t, _ in MIXED + STYLES if text_module._explain(t)}
    assert deciding == {r.name for r in text_module._GRAMMAR.rules}
