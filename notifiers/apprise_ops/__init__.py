"""Ops messages (the nightly stall report) to chat rooms and mailboxes through apprise.

apprise already speaks DingTalk, WeCom, Feishu/Lark, Slack, Telegram, e-mail and
dozens more: ``report.notify`` lists apprise URLs and nothing here knows any of
those services.  See :class:`OpsNotifier`.
"""

from notifiers.apprise_ops.sender import OpsDelivery, OpsNotifier, mask_url

__all__ = ["OpsNotifier", "OpsDelivery", "mask_url"]
