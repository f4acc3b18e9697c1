"""Telegram Bot API updates as contract events (docs/webhooks.md, "Telegram").

A bot that is an administrator of the brand's channel and of its discussion
group gets, by ``setWebhook``, one ``Update`` per call: ``update_id`` and one of
``channel_post``, ``message``, ``message_reaction``, ``message_reaction_count``,
... Event ids come from Telegram's ids (a chat's message ids, the bot's update
ids), so a call Telegram delivers again counts once.
"""

from __future__ import annotations

from typing import Any

from smm_pulse.config import TelegramWebhook
from smm_pulse.web.webhook_mapping import Event, Mapped, integer, obj, unmapped

PLATFORM = "telegram"
GROUPS = ("group", "supergroup")


def account(hook: TelegramWebhook) -> str:
    return hook.account or str(hook.channel_id)


def _base(hook: TelegramWebhook, kind: str, event_id: str, ts: float) -> Event:
    return {"type": kind, "event_id": event_id, "ts": ts, "platform": PLATFORM,
            "brand": hook.brand, "account": account(hook)}


def _post_id(hook: TelegramWebhook, chat: int, message_id: int) -> str:
    """The channel's posts by their message id; a group's messages by chat and id."""
    return str(message_id) if chat == hook.channel_id else f"{chat}/{message_id}"


def _place(message: dict[str, Any]) -> tuple[int, int, int] | None:
    """A message's (or reaction's) chat id, message id and date, if it has them all."""
    chat = integer(obj(message.get("chat")).get("id"))
    message_id, date = integer(message.get("message_id")), integer(message.get("date"))
    return None if chat is None or message_id is None or date is None \
        else (chat, message_id, date)


def _published(hook: TelegramWebhook, message_id: int, date: int) -> Mapped:
    """A channel post's first snapshot, with no counters: it dates the post. Its id is the
    same whether the post comes as ``channel_post`` or as its automatic forward into the
    discussion group, so a bot that gets both counts it once."""
    return Mapped([{**_base(hook, "post_metrics", f"telegram:{hook.channel_id}:post:"
                                                  f"{message_id}", date),
                    "post_id": str(message_id), "published_at": date}])


def _channel_post(message: dict[str, Any], hook: TelegramWebhook) -> Mapped:
    place = _place(message)
    if place is None:
        return unmapped("channel_post without chat.id, message_id or date")
    chat, message_id, date = place
    if chat != hook.channel_id:
        return unmapped(f"a post of chat {chat}, not of the collector's channel "
                        f"{hook.channel_id}")
    return _published(hook, message_id, date)


def _forwarded_post(message: dict[str, Any], hook: TelegramWebhook) -> int | None:
    """The channel post's id of an automatic forward into the discussion group."""
    origin = obj(message.get("forward_origin"))
    if origin.get("type") == "channel" and integer(obj(origin.get("chat")).get("id")) \
            == hook.channel_id:
        return integer(origin.get("message_id"))
    # Bot API before 7.0
    if integer(obj(message.get("forward_from_chat")).get("id")) == hook.channel_id:
        return integer(message.get("forward_from_message_id"))
    return None


def _message(message: dict[str, Any], hook: TelegramWebhook) -> Mapped:
    chat, place = obj(message.get("chat")), _place(message)
    if place is None:
        return unmapped("message without chat.id, message_id or date")
    chat_id, message_id, date = place
    event_id = f"telegram:{chat_id}:message:{message_id}"
    if chat.get("type") == "private":  # a user writes to the bot
        return Mapped([{**_base(hook, "message", event_id, date),
                        "thread_id": f"private{chat_id}", "direction": "in"}])
    if chat.get("type") not in GROUPS:
        return unmapped(f"a message in a chat of type {chat.get('type')!r}")
    if message.get("is_automatic_forward"):
        post = _forwarded_post(message, hook)
        if post is None:
            return unmapped("an automatic forward from another channel")
        return _published(hook, post, date)
    replied = obj(message.get("reply_to_message"))
    root = integer(message.get("message_thread_id")) or integer(replied.get("message_id"))
    if root is None:
        return unmapped("a group message outside a post's comments (no thread, no reply)")
    # Sent on behalf of the channel or as the group's anonymous admin: the brand replies.
    sender = integer(obj(message.get("sender_chat")).get("id"))
    outgoing = sender in (hook.channel_id, chat_id)
    events = [{**_base(hook, "message", event_id, date), "thread_id": f"{chat_id}/{root}",
               "direction": "out" if outgoing else "in"}]
    if not outgoing:  # a comment of the audience; its post is known when it replies to it
        comment = {**_base(hook, "interaction", event_id + ":comment", date),
                   "action": "comment"}
        post = _forwarded_post(replied, hook) if replied.get("is_automatic_forward") else None
        if post is not None:
            comment["post_id"] = str(post)
        events.append(comment)
    return Mapped(events)


def _reaction(update_id: int, change: dict[str, Any], hook: TelegramWebhook) -> Mapped:
    place, old, new = _place(change), change.get("old_reaction"), change.get("new_reaction")
    if place is None or not isinstance(old, list) or not isinstance(new, list):
        return unmapped("message_reaction without chat.id, message_id, date or reactions")
    chat, message_id, date = place
    before, after = ({repr(sorted(obj(r).items())) for r in rs} for rs in (old, new))
    post_id = _post_id(hook, chat, message_id)
    events = []
    for action, count in (("like", len(after - before)), ("unlike", len(before - after))):
        if count:  # changing one reaction for another is a like and an unlike
            events.append({**_base(hook, "interaction",
                                   f"telegram:{chat}:update:{update_id}:{action}", date),
                           "post_id": post_id, "action": action, "count": count})
    if not events:
        return unmapped("message_reaction with the same reactions before and after")
    return Mapped(events)


def _reaction_count(update_id: int, change: dict[str, Any], hook: TelegramWebhook) -> Mapped:
    place, reactions = _place(change), change.get("reactions")
    if place is None or not isinstance(reactions, list):
        return unmapped("message_reaction_count without chat.id, message_id, date or reactions")
    chat, message_id, date = place
    counts = [integer(obj(r).get("total_count")) for r in reactions]
    if any(count is None or count < 0 for count in counts):
        return unmapped("message_reaction_count with a total_count that is not a count")
    # Totals of anonymous reactions (channels): a snapshot of the post, not a change.
    return Mapped([{**_base(hook, "post_metrics", f"telegram:{chat}:update:{update_id}", date),
                    "post_id": _post_id(hook, chat, message_id),
                    "likes": sum(c for c in counts if c is not None)}])


def telegram_events(update: Any, hook: TelegramWebhook) -> Mapped:
    """The contract events of one Update, or why it has none."""
    if not isinstance(update, dict):
        return unmapped("the update is not a JSON object")
    update_id = integer(update.get("update_id"))
    if update_id is None:
        return unmapped("an update without update_id")
    if "channel_post" in update:
        return _channel_post(obj(update["channel_post"]), hook)
    if "message" in update:
        return _message(obj(update["message"]), hook)
    if "message_reaction" in update:
        return _reaction(update_id, obj(update["message_reaction"]), hook)
    if "message_reaction_count" in update:
        return _reaction_count(update_id, obj(update["message_reaction_count"]), hook)
    kinds = sorted(k for k in update if k != "update_id")
    return unmapped(f"Telegram update {', '.join(kinds) or 'with no content'} maps to no "
                    "event of the contract")
