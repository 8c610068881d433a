"""What each role sees through the official SDKs: admins never read another user's API key, and both
SDKs still read the users they list. (Labelers cannot list records through the v2 SDK, as in
Argilla; what they read by id and through `/me` search is tested over HTTP in the Rust suite.)"""
import uuid

import argilla as rg
import argilla_v1
import requests

from conftest import OWNER_API_KEY

PASSWORD = "role-password-1"


def uid() -> str:
    return uuid.uuid4().hex[:8]


def api_key_of(argilla_url, username) -> str:
    """A user's API key, read by the owner (the only one besides the user who may)."""
    answer = requests.get(f"{argilla_url}/api/v1/users", headers={"X-Argilla-Api-Key": OWNER_API_KEY}, timeout=30)
    answer.raise_for_status()
    return next(user["api_key"] for user in answer.json()["items"] if user["username"] == username)


def test_an_admin_lists_the_members_of_a_workspace_without_their_keys(argilla_url, client):
    workspace = rg.Workspace(name=f"roles-{uid()}", client=client).create()
    admin = rg.User(username=f"admin-{uid()}", password=PASSWORD, role="admin", client=client).create()
    labeler = rg.User(username=f"labeler-{uid()}", password=PASSWORD, role="annotator", client=client).create()
    workspace.add_user(admin)
    workspace.add_user(labeler)
    admin_key = api_key_of(argilla_url, admin.username)

    # The argilla-v1 SDK, which requires a string key for every listed user.
    argilla_v1.init(api_url=argilla_url, api_key=admin_key)
    listed = {user.username: user.api_key for user in argilla_v1.Workspace.from_name(workspace.name).users}
    assert listed == {admin.username: admin_key, labeler.username: ""}

    # The argilla 2.8 SDK lists the same members.
    as_admin = rg.Argilla(api_url=argilla_url, api_key=admin_key)
    names = {user.username for user in as_admin.workspaces(workspace.name).users}
    assert names == {admin.username, labeler.username}
