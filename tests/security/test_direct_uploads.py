"""Direct uploads to ImageKit, attacked: each refusal's status, code and message, and
nothing stored (``nothing_stored`` also checks the local ImageKit server's files).

The browser's side runs as a browser would: httpx posts the multipart form to the
``uploadUrl`` the API returned, with the public key's token and never the private key.
"""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt
import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, connections
from django.forms.models import model_to_dict
from imagekitio import ImageKit
from PIL import Image as PILImage
from strawberry.relay import to_base64

import catalog.direct_uploads as direct_uploads
import catalog.uploads as uploads
from accounts.models import ApiToken
from catalog.models import Image, Product
from catalog.uploads import NewFile, add_image
from media_store.imagekit_server import ImageKitServer
from media_store.imagekit_server.auth import V2_TOKEN_REUSED
from media_store.imagekit_server.errors import (
    CHECKS_FAILED,
    TOKEN_EXPIRED,
    TOKEN_INVALID,
    TOKEN_MISSING,
    TOKEN_PAYLOAD_MISMATCH,
)
from media_store.imagekit_server.upload import CLIENT_FOLDER_REFUSED, CLIENT_OVERWRITE_REFUSED
from media_store.models import StoredFile
from media_store.storage.imagekit import ImageKitStorage
from tests.conftest import IMAGEKIT_PRIVATE_KEY, IMAGEKIT_PUBLIC_KEY, make_image_bytes
from tests.utils import (
    ERROR_FIELDS,
    UPLOAD_AUTH_SELECTION,
    browser_upload,
    errors,
    graphql_data,
    nodes,
    run,
)

pytestmark = pytest.mark.django_db

UPLOAD_AUTH = f"""
mutation Auth($fileName: String) {{ imagekitUploadAuth(fileName: $fileName) {{
  __typename
  ... on ImageUploadAuth {{ {UPLOAD_AUTH_SELECTION} }}
  {ERROR_FIELDS}
}} }}
"""

REGISTER = f"""
mutation Register($fileId: String!, $productId: ID) {{
  registerUploadedImage(fileId: $fileId, altText: "Direct", productId: $productId) {{
    __typename
    ... on Image {{ id name width height url small }}
    {ERROR_FIELDS}
  }}
}}
"""

LISTING = "{ products { edges { node { slug images { id name url } } } } }"


@pytest.fixture
def headers(editor_token) -> dict:
    return {"Authorization": f"Bearer {editor_token}"}


def upload_auth(client, headers, file_name: str | None = None) -> dict:
    result = run(client, UPLOAD_AUTH, {"fileName": file_name}, headers)
    assert result["__typename"] == "ImageUploadAuth", result
    return result


def message(result: dict) -> str:
    (only,) = result["messages"]
    return only["message"]


def refused(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["message"] == text


def forged(fields: dict[str, str], *, key: str, kid: str) -> str:
    now = int(time.time())
    return jwt.encode(
        {**fields, "iat": now, "exp": now + 600}, key, algorithm="HS256", headers={"kid": kid}
    )


def bound_fields(auth: dict) -> dict[str, str]:
    return {f["name"]: f["value"] for f in auth["formFields"] if f["name"] != "token"}


def remote_bytes(server: ImageKitServer, path: str) -> bytes:
    record = server.store.get_by_path(path)
    assert record is not None, f"{path} is not on the ImageKit server"
    return server.store.blob_path(record).read_bytes()


@pytest.fixture
def catalog_image(imagekit) -> Image:
    """An image uploaded by the server: its original is /catalog/images/<uuid>.jpg."""
    return add_image(
        NewFile(ContentFile(make_image_bytes((300, 200)), name="shoe.jpg")), created_by=None
    )


@pytest.fixture
def uploaded(client, headers, imagekit) -> dict:
    """A file a browser uploaded with a token, not registered yet: ImageKit's answer."""
    response = browser_upload(upload_auth(client, headers), make_image_bytes((400, 300)))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def registered(client, headers, uploaded) -> dict:
    """``uploaded``, registered as an Image: ImageKit's answer for it."""
    result = run(client, REGISTER, {"fileId": uploaded["fileId"]}, headers)
    assert result["__typename"] == "Image", result
    return uploaded


@pytest.fixture
def spent_auth(client, headers, imagekit) -> dict:
    """Upload parameters whose token already served one upload."""
    auth = upload_auth(client, headers)
    assert browser_upload(auth, make_image_bytes()).status_code == 200
    return auth


# --- The whole browser flow ----------------------------------------------------------


def test_browser_flow_upload_then_register_serves_the_image(client, headers, imagekit):
    product = Product.objects.create(name="Lamp", slug="lamp")
    # given: the parameters for one upload
    auth = upload_auth(client, headers, "My Lamp.png")
    assert IMAGEKIT_PRIVATE_KEY not in str(auth)

    # when: the browser posts the form to ImageKit, then registers the answer
    posted = browser_upload(
        auth,
        make_image_bytes((500, 400), fmt="PNG"),
        filename="My Lamp.png",
        content_type="image/png",
    )
    assert posted.status_code == 200, posted.text
    answer = posted.json()
    image = run(
        client,
        REGISTER,
        {"fileId": answer["fileId"], "productId": to_base64("Product", product.pk)},
        headers,
    )

    # then: it is in the listing, and its URLs serve from the local ImageKit server
    assert answer["filePath"] == f"{auth['folder']}{auth['fileName']}"
    assert image["__typename"] == "Image"
    (listed,) = nodes(graphql_data(client, LISTING)["products"])
    assert [(i["id"], i["url"]) for i in listed["images"]] == [(image["id"], image["url"])]
    assert image["url"] == f"{imagekit.url_endpoint}{answer['filePath']}"
    served = httpx.get(image["url"])
    assert served.status_code == 200
    assert PILImage.open(io.BytesIO(served.content)).size == (500, 400)
    small = PILImage.open(io.BytesIO(httpx.get(image["small"]).content))
    assert max(small.size) == 320


# --- Uploading to ImageKit with the token ----------------------------------------------


def test_v2_token_reused_is_refused(spent_auth, nothing_stored, imagekit):
    response = browser_upload(spent_auth, make_image_bytes())

    refused(response, 400, V2_TOKEN_REUSED)


def test_v2_token_expired_is_refused(client, headers, monkeypatch, imagekit, nothing_stored):
    monkeypatch.setattr(ImageKitStorage, "DIRECT_UPLOAD_EXPIRE", 1)
    auth = upload_auth(client, headers)
    time.sleep(2.1)

    response = browser_upload(auth, make_image_bytes())

    refused(response, 400, TOKEN_EXPIRED)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("fileName", "{existing}", id="fileName-of-a-catalog-image"),
        pytest.param("folder", "/catalog/images/", id="folder-of-catalog-images"),
        pytest.param("overwriteFile", "true", id="overwriteFile"),
        pytest.param("useUniqueFileName", "true", id="useUniqueFileName"),
        pytest.param("checks", '"file.size" <= 1073741824', id="checks"),
        pytest.param("isPrivateFile", "true", id="added-field"),
    ],
)
def test_v2_tampered_form_is_refused(
    client, headers, catalog_image, imagekit, field, value, nothing_stored
):
    auth = upload_auth(client, headers)
    existing = catalog_image.image.name.rsplit("/", 1)[-1]
    before = remote_bytes(imagekit, f"/catalog/{catalog_image.image.name}")

    response = browser_upload(
        auth, make_image_bytes((50, 50)), fields={field: value.format(existing=existing)}
    )

    refused(response, 400, TOKEN_PAYLOAD_MISMATCH)
    assert remote_bytes(imagekit, f"/catalog/{catalog_image.image.name}") == before


def test_v2_overwriting_a_catalog_image_is_refused(
    client, headers, catalog_image, imagekit, nothing_stored
):
    auth = upload_auth(client, headers)
    path = f"/catalog/{catalog_image.image.name}"
    before = imagekit.store.get_by_path(path)

    response = browser_upload(
        auth,
        make_image_bytes((50, 50), color="red"),
        fields={
            "folder": path.rsplit("/", 1)[0] + "/",
            "fileName": path.rsplit("/", 1)[1],
            "useUniqueFileName": "false",
            "overwriteFile": "true",
        },
    )

    refused(response, 400, TOKEN_PAYLOAD_MISMATCH)
    assert imagekit.store.get_by_path(path).version_id == before.version_id


@pytest.mark.parametrize(
    ("key", "kid"),
    [
        pytest.param(
            "attackers_own_private_key", IMAGEKIT_PUBLIC_KEY, id="signed-with-another-key"
        ),
        pytest.param(IMAGEKIT_PRIVATE_KEY, "public_key_of_another_account", id="wrong-kid"),
    ],
)
def test_v2_forged_token_is_refused(client, headers, imagekit, key, kid, nothing_stored):
    auth = upload_auth(client, headers)

    response = browser_upload(
        auth, make_image_bytes(), fields={"token": forged(bound_fields(auth), key=key, kid=kid)}
    )

    refused(response, 400, TOKEN_INVALID)


def test_v2_missing_token_is_refused(client, headers, imagekit, nothing_stored):
    auth = upload_auth(client, headers)

    response = browser_upload(auth, make_image_bytes(), fields={"token": None})

    refused(response, 400, TOKEN_MISSING)


def test_v2_file_over_the_size_check_is_refused(
    client, headers, settings, imagekit, nothing_stored
):
    settings.CATALOG = {**getattr(settings, "CATALOG", {}), "MAX_UPLOAD_BYTES": 2000}
    auth = upload_auth(client, headers)
    content = make_image_bytes((640, 480))
    assert len(content) > 2000

    response = browser_upload(auth, content)

    refused(response, 400, CHECKS_FAILED)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(b"%PDF-1.4\n\x00\x01\x02 a document", "image/jpeg", id="pdf-claiming-jpeg"),
        pytest.param(b"PK\x03\x04\x14\x00 an archive", "image/jpeg", id="zip-claiming-jpeg"),
        pytest.param(b"\x7fELF\x02\x01\x01 a program", "application/x-executable", id="elf"),
    ],
)
def test_v2_non_image_is_refused(client, headers, imagekit, content, content_type, nothing_stored):
    auth = upload_auth(client, headers)

    response = browser_upload(auth, content, content_type=content_type)

    refused(response, 400, CHECKS_FAILED)


@pytest.mark.parametrize("file_name", ["shell.php", "vector.svg", "page.html", "archive.zip"])
def test_upload_auth_for_a_non_image_name_is_refused(
    client, headers, imagekit, file_name, nothing_stored
):
    result = run(client, UPLOAD_AUTH, {"fileName": file_name}, headers)

    assert errors(result) == [("fileName", "unsupported_format")]
    assert "not an accepted image type" in message(result)


def test_upload_auth_ignores_a_path_in_the_file_name(client, headers, imagekit, nothing_stored):
    auth = upload_auth(client, headers, "../../catalog/images/x.jpg")

    assert auth["folder"] == "/catalog/uploads/"
    stem, extension = auth["fileName"].split(".")
    assert (len(stem), extension) == (32, "jpg")
    assert set(stem) <= set("0123456789abcdef")


def test_upload_auth_needs_the_add_image_permission(client, django_user_model, nothing_stored):
    outsider = django_user_model.objects.create_user("outsider")
    token = ApiToken.objects.create_token(outsider)[1]

    anonymous = run(client, UPLOAD_AUTH, {})
    stranger = run(client, UPLOAD_AUTH, {}, {"Authorization": f"Bearer {token}"})

    assert [m["kind"] for m in anonymous["messages"]] == ["PERMISSION"]
    assert [m["kind"] for m in stranger["messages"]] == ["PERMISSION"]
    assert "catalog.add_image" in message(stranger)


# --- V1 client-side uploads on a hardened account --------------------------------------


@pytest.fixture(scope="module")
def hardened_server(tmp_path_factory):
    """A local ImageKit server set up as a hardened account (see ImageKitServer)."""
    with ImageKitServer(
        root=tmp_path_factory.mktemp("imagekit-hardened"),
        private_key=IMAGEKIT_PRIVATE_KEY,
        public_key=IMAGEKIT_PUBLIC_KEY,
        client_upload_folder="/catalog/uploads/",
    ) as server:
        yield server


class TestHardenedAccountRefusesV1ClientUploads:
    """A leaked V1 signature (token + expire, nothing else signed) cannot touch the catalog."""

    @pytest.fixture
    def imagekit(self, settings, hardened_server):
        """The project on the hardened server (overrides the suite's ``imagekit``)."""
        hardened_server.reset(files=True)
        settings.IMAGEKIT_PRIVATE_KEY = IMAGEKIT_PRIVATE_KEY
        settings.IMAGEKIT_PUBLIC_KEY = IMAGEKIT_PUBLIC_KEY
        settings.IMAGEKIT_URL_ENDPOINT = hardened_server.url_endpoint
        settings.IMAGEKIT_API_BASE_URL = hardened_server.url
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "media_store.storage.imagekit.ImageKitStorage"},
        }
        yield hardened_server
        hardened_server.reset(files=True)

    @staticmethod
    def v1_upload(server: ImageKitServer, content: bytes, **form: str) -> httpx.Response:
        # What an old server handed out: anyone holding it chooses every other field.
        params = ImageKit(private_key=IMAGEKIT_PRIVATE_KEY).helper.get_authentication_parameters()
        fields = {
            "publicKey": IMAGEKIT_PUBLIC_KEY,
            "token": params["token"],
            "expire": str(params["expire"]),
            "signature": params["signature"],
            **form,
        }
        return httpx.post(
            f"{server.url}/api/v1/files/upload",
            files={**{k: (None, v) for k, v in fields.items()}, "file": ("x.jpg", content)},
        )

    def test_v1_overwrite_of_a_catalog_image_is_refused(
        self, catalog_image, imagekit, nothing_stored
    ):
        path = f"/catalog/{catalog_image.image.name}"
        before = remote_bytes(imagekit, path)

        response = self.v1_upload(
            imagekit,
            make_image_bytes(color="red"),
            folder="/catalog/images/",
            fileName=path.rsplit("/", 1)[1],
            useUniqueFileName="false",
            overwriteFile="true",
        )

        refused(response, 403, CLIENT_FOLDER_REFUSED.format(folder="/catalog/uploads/"))
        assert remote_bytes(imagekit, path) == before

    def test_v1_overwrite_of_a_registered_direct_upload_is_refused(
        self, registered, imagekit, nothing_stored
    ):
        path = registered["filePath"]
        before = remote_bytes(imagekit, path)

        response = self.v1_upload(
            imagekit,
            make_image_bytes(color="red"),
            folder="/catalog/uploads/",
            fileName=path.rsplit("/", 1)[1],
            useUniqueFileName="false",
        )

        refused(response, 403, CLIENT_OVERWRITE_REFUSED)
        assert remote_bytes(imagekit, path) == before

    def test_v1_upload_into_catalog_images_is_refused(self, imagekit, nothing_stored):
        response = self.v1_upload(
            imagekit, make_image_bytes(), folder="/catalog/images/", fileName="planted.jpg"
        )

        refused(response, 403, CLIENT_FOLDER_REFUSED.format(folder="/catalog/uploads/"))

    def test_v2_browser_flow_still_works(self, client, headers, imagekit):
        response = browser_upload(upload_auth(client, headers), make_image_bytes())

        assert response.status_code == 200, response.text


# --- Registering ----------------------------------------------------------------------


def test_register_the_same_file_id_twice_is_refused(
    client, headers, registered, imagekit, nothing_stored
):
    imagekit.requests.clear()

    result = run(client, REGISTER, {"fileId": registered["fileId"]}, headers)

    assert errors(result) == [("fileId", "already_registered")]
    assert "already registered" in message(result)
    # Refused before anything was fetched from ImageKit.
    assert imagekit.requests.entries("details") == []
    assert imagekit.requests.entries("cdn") == []


@pytest.mark.parametrize("field", ["image", "image_xs"])
def test_register_a_catalog_images_own_file_is_refused(
    client, headers, catalog_image, imagekit, field, nothing_stored
):
    path = f"/catalog/{getattr(catalog_image, field).name}"
    file_id = imagekit.store.get_by_path(path).file_id

    result = run(client, REGISTER, {"fileId": file_id}, headers)

    assert errors(result) == [("fileId", "already_registered")]
    assert remote_bytes(imagekit, path)


def test_register_racing_registration_loses_without_touching_the_winner(
    client, headers, uploaded, imagekit, monkeypatch
):
    # given: a second registration of the same file that commits while this one
    # is past its checks (run from inside this one's check of the file)
    real_check = uploads.check_file
    winner: dict = {}

    def check_while_another_registers(handle, field):
        monkeypatch.setattr(uploads, "check_file", real_check)
        image = direct_uploads.register_uploaded_image(file_id=uploaded["fileId"], created_by=None)
        winner["image"] = image
        winner["record"] = model_to_dict(StoredFile.objects.get(name=image.image.name))
        return real_check(handle, field)

    monkeypatch.setattr(uploads, "check_file", check_while_another_registers)

    # when
    result = run(client, REGISTER, {"fileId": uploaded["fileId"]}, headers)

    # then: refused; the winner's row, record and files are as it left them, and
    # the loser's small variant is gone
    assert errors(result) == [("fileId", "already_registered")]
    image = winner["image"]
    assert list(Image.objects.all()) == [image]
    assert model_to_dict(StoredFile.objects.get(name=image.image.name)) == winner["record"]
    assert set(StoredFile.objects.values_list("name", flat=True)) == {
        image.image.name,
        image.image_xs.name,
    }
    assert sorted(r.file_path for r in imagekit.store.files()) == sorted(
        [uploaded["filePath"], f"/catalog/{image.image_xs.name}"]
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite serialises writers: no real race"
)
def test_register_in_two_threads_at_once_makes_one_image(uploaded, imagekit, monkeypatch):
    # Both threads pass every check and derive before either inserts its row.
    barrier = threading.Barrier(2, timeout=30)
    real_check = uploads.check_file

    def check_together(handle, field):
        checked = real_check(handle, field)
        barrier.wait()
        return checked

    monkeypatch.setattr(uploads, "check_file", check_together)

    def register():
        try:
            return direct_uploads.register_uploaded_image(
                file_id=uploaded["fileId"], created_by=None
            )
        except ValidationError as e:
            return e
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: register(), range(2)))

    (image,) = [r for r in results if isinstance(r, Image)]
    (refusal,) = [r for r in results if isinstance(r, ValidationError)]
    assert [e.code for e in refusal.error_dict["file_id"]] == ["already_registered"]
    assert list(Image.objects.all()) == [image]
    assert StoredFile.objects.get(name=image.image.name).file_id == uploaded["fileId"]
    assert sorted(r.file_path for r in imagekit.store.files()) == sorted(
        [uploaded["filePath"], f"/catalog/{image.image_xs.name}"]
    )


@pytest.fixture
def planted(imagekit) -> str:
    """The fileId of a file outside the upload folder (only the private key puts it there)."""
    return (
        imagekit.client()
        .files.upload(file=make_image_bytes(), file_name="planted.jpg", folder="/catalog/images/")
        .file_id
    )


def test_register_a_file_outside_the_upload_folder_is_refused(
    client, headers, planted, imagekit, nothing_stored
):
    result = run(client, REGISTER, {"fileId": planted}, headers)

    assert errors(result) == [("fileId", "invalid")]
    assert "not in the direct-upload folder /catalog/uploads/" in message(result)
    assert imagekit.store.get(planted) is not None, "a file it did not take is left alone"


@pytest.mark.parametrize(
    "file_id", ["0" * 24, "../images/x", "%2e%2e", " "], ids=["unknown", "path", "encoded", "blank"]
)
def test_register_a_file_id_that_does_not_exist_is_refused(
    client, headers, imagekit, file_id, nothing_stored
):
    result = run(client, REGISTER, {"fileId": file_id}, headers)

    assert errors(result) == [("fileId", "not_found")]
    assert "has no file" in message(result) or "names no file" in message(result)


def test_register_needs_the_add_image_permission(
    client, uploaded, django_user_model, imagekit, nothing_stored
):
    outsider = django_user_model.objects.create_user("outsider")
    token = ApiToken.objects.create_token(outsider)[1]

    result = run(
        client, REGISTER, {"fileId": uploaded["fileId"]}, {"Authorization": f"Bearer {token}"}
    )

    assert [m["kind"] for m in result["messages"]] == ["PERMISSION"]
