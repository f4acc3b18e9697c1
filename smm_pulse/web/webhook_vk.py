"""VK Callback API calls as contract events (docs/webhooks.md, "VK").

A community's Callback API posts one JSON object per event: ``type``, ``object``,
``group_id``, ``event_id`` (VK's id of the event, the same on its retries), ``v``
and ``secret``. Event ids come from VK's ids, so a retried call repeats its ids
and counts once.
"""

from __future__ import annotations

from typing import Any

from smm_pulse.config import VkWebhook
from smm_pulse.web.webhook_mapping import Event, Mapped, integer, obj, unmapped

PLATFORM = "vk"
LIKES = {"like_add": "like", "like_remove": "unlike"}
# Wall posts that are not (yet) published: suggested by a user, or scheduled.
UNPUBLISHED = ("suggest", "postpone")


def account(hook: VkWebhook) -> str:
    return hook.account or f"club{hook.group_id}"


def _base(hook: VkWebhook, kind: str, event_id: str, ts: float) -> Event:
    return {"type": kind, "event_id": event_id, "ts": ts, "platform": PLATFORM,
            "brand": hook.brand, "account": account(hook)}


def _wall_reply(item: dict[str, Any], hook: VkWebhook, now: float) -> Mapped:
    comment_id, owner, post = (integer(item.get(k)) for k in ("id", "post_owner_id", "post_id"))
    author = integer(item.get("from_id"))
    if comment_id is None or owner is None or post is None or author is None:
        return unmapped("wall_reply_new without id, from_id, post_id or post_owner_id")
    # A reply's thread is its top-level comment: the community answers a comment there.
    parents = [p for p in item.get("parents_stack") or [] if integer(p) is not None]
    root = parents[0] if parents else comment_id
    ts = integer(item.get("date")) or now
    mine = author == -hook.group_id
    base_id = f"vk:{owner}_{post}:comment:{comment_id}"
    message = {**_base(hook, "message", base_id, ts), "thread_id": f"wall{owner}_{post}_{root}",
               "direction": "out" if mine else "in"}
    if mine:  # the brand's own replies are not the audience's engagement
        return Mapped([message])
    comment = {**_base(hook, "interaction", base_id + ":interaction", ts),
               "post_id": f"{owner}_{post}", "action": "comment"}
    return Mapped([message, comment])


def _like(kind: str, item: dict[str, Any], payload: dict[str, Any], hook: VkWebhook,
          now: float) -> Mapped:
    owner, object_id = integer(item.get("object_owner_id")), integer(item.get("object_id"))
    liker, object_type = integer(item.get("liker_id")), item.get("object_type")
    if owner is None or object_id is None or liker is None or not isinstance(object_type, str):
        return unmapped(f"{kind} without object_owner_id, object_id, object_type or liker_id")
    # A user may like, unlike and like again: only VK's event id tells those calls apart.
    vk_id = payload.get("event_id")
    suffix = vk_id if isinstance(vk_id, str) and vk_id else f"{liker}:{kind}"
    post_id = f"{owner}_{object_id}"
    if object_type != "post":  # VK's own notation of other objects: photo-1_2, video-1_2
        post_id = object_type + post_id
    # like_add and like_remove carry no time: the call's arrival is the event's time.
    return Mapped([{**_base(hook, "interaction", f"vk:{post_id}:{kind}:{suffix}", now),
                    "post_id": post_id, "action": LIKES[kind]}])


def _repost(item: dict[str, Any], hook: VkWebhook, now: float) -> Mapped:
    copies = [obj(c) for c in item.get("copy_history") or []]
    original = copies[0] if copies else {}
    owner, post = integer(original.get("owner_id")), integer(original.get("id"))
    repost_owner, repost_id = integer(item.get("owner_id")), integer(item.get("id"))
    if None in (owner, post, repost_owner, repost_id):
        return unmapped("wall_repost without the repost's id and owner_id or copy_history")
    ts = integer(item.get("date")) or now
    return Mapped([{**_base(hook, "interaction", f"vk:{repost_owner}_{repost_id}:repost", ts),
                    "post_id": f"{owner}_{post}", "action": "share"}])


def _counter(item: dict[str, Any], name: str) -> int | None:
    return integer(obj(item.get(name)).get("count"))


def _wall_post(item: dict[str, Any], hook: VkWebhook, now: float) -> Mapped:
    owner, post = integer(item.get("owner_id")), integer(item.get("id"))
    if owner is None or post is None:
        return unmapped("wall_post_new without id or owner_id")
    if item.get("post_type") in UNPUBLISHED:
        return unmapped(f"wall_post_new of a {item['post_type']} post: not published")
    published = integer(item.get("date")) or now
    snapshot: Event = {**_base(hook, "post_metrics", f"vk:{owner}_{post}:published", published),
                       "post_id": f"{owner}_{post}", "published_at": published}
    for field, counter in (("likes", "likes"), ("comments", "comments"),
                           ("shares", "reposts"), ("views", "views")):
        value = _counter(item, counter)
        if value is not None:
            snapshot[field] = value
    return Mapped([snapshot])


def _message(kind: str, item: dict[str, Any], hook: VkWebhook, now: float) -> Mapped:
    # API 5.103+: message_new's object is {"message": ..., "client_info": ...}; before, and
    # for message_reply, the message itself.
    message = obj(item.get("message")) if "message" in item else item
    peer, message_id = integer(message.get("peer_id")), integer(message.get("id"))
    if not message_id:  # 0 in chats the community reads but did not write in
        message_id = integer(message.get("conversation_message_id"))
    if peer is None or message_id is None:
        return unmapped(f"{kind} without peer_id or id")
    ts = integer(message.get("date")) or now
    outgoing = kind == "message_reply" or message.get("out") == 1
    return Mapped([{**_base(hook, "message", f"vk:dialog{peer}:message:{message_id}", ts),
                    "thread_id": f"dialog{peer}", "direction": "out" if outgoing else "in"}])


def vk_events(payload: Any, hook: VkWebhook, now: float) -> Mapped:
    """The contract events of one Callback API call (``now``: the time of calls that
    carry none), or why it has none."""
    if not isinstance(payload, dict):
        return unmapped("the call is not a JSON object")
    if payload.get("group_id") != hook.group_id:
        return unmapped(f"group_id {payload.get('group_id')!r} is not the collector's "
                        f"community {hook.group_id}")
    kind, item = payload.get("type"), obj(payload.get("object"))
    if kind == "wall_reply_new":
        return _wall_reply(item, hook, now)
    if kind in LIKES:
        return _like(kind, item, payload, hook, now)
    if kind == "wall_repost":
        return _repost(item, hook, now)
    if kind == "wall_post_new":
        return _wall_post(item, hook, now)
    if kind in ("message_new", "message_reply"):
        return _message(kind, item, hook, now)
    return unmapped(f"VK event type {kind!r} maps to no event of the contract")
