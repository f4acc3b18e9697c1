"""VK Callback API calls, as VK's documentation shows them, map to contract events that pass
the contract's validation; retried calls repeat their event ids; what maps to nothing says
why."""

from __future__ import annotations

from typing import Any

import orjson

from smm_pulse.config import VkWebhook
from smm_pulse.streams.events import Declared, parse_message
from smm_pulse.web.webhook_vk import vk_events

GROUP = 218_375_112
HOOK = VkWebhook(brand="acme", group_id=GROUP, confirmation="5ab3e1f0", secret="s3cr3t")
NOW = 1_733_600_000.0


def call(kind: str, item: dict[str, Any], event_id: str = "7d2b1f6a0c") -> dict[str, Any]:
    return {"group_id": GROUP, "type": kind, "event_id": event_id, "v": "5.199",
            "object": item, "secret": "s3cr3t"}


WALL_REPLY = {"id": 5412, "from_id": 381_944_107, "date": 1_733_599_900,
              "text": "Когда будет доставка в Казань?", "post_owner_id": -GROUP,
              "post_id": 1187, "owner_id": -GROUP, "parents_stack": [],
              "thread": {"count": 0}}
LIKE = {"liker_id": 381_944_107, "object_type": "post", "object_owner_id": -GROUP,
        "object_id": 1187, "thread_reply_id": 0, "post_id": 0}
WALL_POST = {"id": 1188, "from_id": -GROUP, "owner_id": -GROUP, "created_by": 52_001,
             "date": 1_733_599_000, "marked_as_ads": 0, "post_type": "post",
             "text": "Новая коллекция уже в магазинах", "can_edit": 1,
             "comments": {"count": 0}, "likes": {"count": 0}, "reposts": {"count": 0},
             "views": {"count": 1}}
REPOST = {"id": 77, "from_id": 381_944_107, "owner_id": 381_944_107,
          "date": 1_733_599_950, "post_type": "post", "text": "",
          "copy_history": [{"id": 1187, "owner_id": -GROUP, "from_id": -GROUP,
                            "date": 1_733_590_000, "post_type": "post", "text": "..."}]}
MESSAGE = {"date": 1_733_599_800, "from_id": 381_944_107, "id": 9031, "out": 0,
           "peer_id": 381_944_107, "text": "Здравствуйте! Заказ 1042 не пришёл",
           "conversation_message_id": 412, "fwd_messages": [], "important": False,
           "attachments": [], "is_hidden": False}


def valid(events: list[dict[str, Any]]) -> list[Any]:
    parsed = parse_message(orjson.dumps(events), Declared({"acme"}.__contains__), NOW)
    assert parsed.rejected == []
    return parsed.accepted


def test_a_users_wall_comment_is_an_incoming_message_and_a_comment_on_the_post():
    message, comment = valid(vk_events(call("wall_reply_new", WALL_REPLY), HOOK, NOW).events)
    assert (message.direction, message.thread_id, message.ts) == (
        "in", f"wall-{GROUP}_1187_5412", 1_733_599_900)
    assert (comment.action, comment.post_id) == ("comment", f"-{GROUP}_1187")


def test_the_communitys_reply_is_an_outgoing_message_in_the_comments_thread():
    reply = {**WALL_REPLY, "id": 5413, "from_id": -GROUP, "parents_stack": [5412],
             "reply_to_comment": 5412, "reply_to_user": 381_944_107}
    events = valid(vk_events(call("wall_reply_new", reply), HOOK, NOW).events)
    assert [(e.direction, e.thread_id) for e in events] == [("out", f"wall-{GROUP}_1187_5412")]


def test_like_add_and_like_remove_are_a_like_and_an_unlike_of_the_post():
    added = valid(vk_events(call("like_add", LIKE, "e1"), HOOK, NOW).events)
    removed = valid(vk_events(call("like_remove", LIKE, "e2"), HOOK, NOW).events)
    assert [(e.action, e.post_id, e.ts) for e in added + removed] == [
        ("like", f"-{GROUP}_1187", NOW), ("unlike", f"-{GROUP}_1187", NOW)]


def test_a_retried_call_has_the_same_event_ids_and_a_new_like_a_new_one():
    first = vk_events(call("like_add", LIKE, "e1"), HOOK, NOW).events
    retried = vk_events(call("like_add", LIKE, "e1"), HOOK, NOW + 5).events
    again = vk_events(call("like_add", LIKE, "e3"), HOOK, NOW + 60).events
    assert first[0]["event_id"] == retried[0]["event_id"] != again[0]["event_id"]


def test_a_repost_is_a_share_of_the_original_post():
    (share,) = valid(vk_events(call("wall_repost", REPOST), HOOK, NOW).events)
    assert (share.action, share.post_id) == ("share", f"-{GROUP}_1187")


def test_a_new_wall_post_is_its_first_snapshot_with_its_counters():
    (snapshot,) = valid(vk_events(call("wall_post_new", WALL_POST), HOOK, NOW).events)
    assert (snapshot.post_id, snapshot.published_at, snapshot.likes, snapshot.shares,
            snapshot.views) == (f"-{GROUP}_1188", 1_733_599_000, 0, 0, 1)


def test_a_suggested_post_is_not_published_and_maps_to_nothing():
    mapped = vk_events(call("wall_post_new", {**WALL_POST, "post_type": "suggest"}), HOOK, NOW)
    assert mapped.events == [] and "suggest" in (mapped.unmapped or "")


def test_message_new_is_incoming_and_message_reply_outgoing_in_one_dialog():
    incoming = vk_events(call("message_new", {"message": MESSAGE, "client_info": {
        "button_actions": ["text"], "keyboard": True, "lang_id": 0}}), HOOK, NOW).events
    reply = {**MESSAGE, "id": 9032, "from_id": -GROUP, "out": 1, "date": 1_733_599_860}
    outgoing = vk_events(call("message_reply", reply), HOOK, NOW).events
    events = valid(incoming + outgoing)
    assert [(e.direction, e.thread_id) for e in events] == [
        ("in", "dialog381944107"), ("out", "dialog381944107")]


def test_the_account_is_the_configured_one_or_the_community():
    named = HOOK.model_copy(update={"account": "acme_official"})
    assert vk_events(call("like_add", LIKE), named, NOW).events[0]["account"] == "acme_official"
    assert vk_events(call("like_add", LIKE), HOOK, NOW).events[0]["account"] == f"club{GROUP}"


def test_an_event_type_without_a_mapping_says_so():
    mapped = vk_events(call("group_join", {"user_id": 1, "join_type": "join"}), HOOK, NOW)
    assert mapped.events == [] and "group_join" in (mapped.unmapped or "")


def test_a_call_of_another_community_maps_to_nothing():
    mapped = vk_events({**call("like_add", LIKE), "group_id": 1}, HOOK, NOW)
    assert mapped.events == [] and "group_id" in (mapped.unmapped or "")


def test_a_call_missing_the_objects_ids_maps_to_nothing():
    mapped = vk_events(call("wall_reply_new", {"text": "hi"}), HOOK, NOW)
    assert mapped.events == [] and mapped.unmapped
