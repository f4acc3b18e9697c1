"""``smm-pulse dashboards push``: upload the generated dashboards to a running Grafana."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from smm_pulse.config import Config
from smm_pulse.dashboards.boards import render_all

FOLDER_UID = "smm-pulse"


@dataclass(frozen=True)
class Pushed:
    folder: str
    dashboards: list[str]  # URLs Grafana answered with


def ensure_folder(api: GrafanaApi, title: str) -> str:
    """The uid of our folder, created on first push."""
    try:
        return api.folder.get_folder(FOLDER_UID)["uid"]
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
    return api.folder.create_folder(title, uid=FOLDER_UID)["uid"]


def push(config: Config, url: str, token: str | None, folder: str = "SMM Pulse") -> Pushed:
    """Create or overwrite every dashboard (same uids, so links and alerts keep working)."""
    api = GrafanaApi.from_url(url, credential=token)
    folder_uid = ensure_folder(api, folder)
    urls = []
    for text in render_all(config).values():
        answer = api.dashboard.update_dashboard({
            "dashboard": orjson.loads(text),
            "folderUid": folder_uid,
            "overwrite": True,
            "message": "smm-pulse dashboards push",
        })
        urls.append(answer.get("url", answer.get("uid", "")))
    return Pushed(folder_uid, urls)
