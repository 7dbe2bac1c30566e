import io
import json
import re
from datetime import UTC, datetime

from backstage_runtime.defaults.root_logger import BackstageLogger

from .fakes import Captured, MakeLogger

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_json_line_holds_level_message_fields_then_timestamp() -> None:
    stream = io.StringIO()
    moment = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    logger = BackstageLogger(
        stream=stream, format="json", meta={"service": "backstage"}, clock=lambda: moment
    )

    logger.info("Listening on :7007", {"type": "initialization"})

    assert stream.getvalue() == (
        '{"level":"info","message":"Listening on :7007","service":"backstage",'
        '"type":"initialization","timestamp":"2024-05-06T07:08:09.123Z"}\n'
    )


def test_json_timestamp_is_iso_8601_utc_with_z(json_logger: Captured) -> None:
    json_logger.logger.info("hello")

    assert ISO_UTC.match(json_logger.records[0]["timestamp"])


def test_json_base_meta_is_service_backstage(json_logger: Captured) -> None:
    json_logger.logger.warn("hello")

    assert json_logger.records[0]["service"] == "backstage"


def test_json_base_meta_merges_backend_logger_meta(make_logger: MakeLogger) -> None:
    captured = make_logger(
        {"backend": {"logger": {"meta": {"env": "prod", "region": "eu"}}}},
        env={"LOG_FORMAT": "json"},
    )

    captured.logger.info("hello")

    record = captured.records[0]
    assert (record["service"], record["env"], record["region"]) == ("backstage", "prod", "eu")


def test_json_writes_one_line_per_entry_even_for_multiline_messages(json_logger: Captured) -> None:
    json_logger.logger.info("first\nsecond")
    json_logger.logger.info("third")

    assert [r["message"] for r in json_logger.records] == ["first\nsecond", "third"]


def test_json_keeps_non_ascii_text_unescaped(json_logger: Captured) -> None:
    json_logger.logger.info("grüße")

    assert '"message":"grüße"' in json_logger.text


def test_json_meta_message_is_appended_as_winston_does(json_logger: Captured) -> None:
    json_logger.logger.info("Request failed", {"message": "timeout"})

    assert json_logger.records[0]["message"] == "Request failed timeout"


def test_json_field_cannot_overwrite_the_level(json_logger: Captured) -> None:
    json_logger.logger.warn("hello", {"level": "debug"})

    assert json_logger.records[0]["level"] == "warn"


def test_json_renders_values_json_cannot_hold_as_text(json_logger: Captured) -> None:
    when = datetime(2024, 1, 2, tzinfo=UTC)

    json_logger.logger.info("hello", {"when": when, "obj": object.__new__(object)})

    record = json_logger.records[0]
    assert record["when"] == "2024-01-02T00:00:00+00:00"
    assert record["obj"].startswith("<object object")


def test_json_renders_a_self_containing_field_as_circular(json_logger: Captured) -> None:
    loop: dict[str, object] = {"name": "loop"}
    loop["self"] = loop

    json_logger.logger.info("hello", {"loop": loop})

    assert json_logger.records[0]["loop"] == {"name": "loop", "self": "[Circular]"}


def test_json_output_is_parseable_for_every_level(make_logger: MakeLogger) -> None:
    captured = make_logger(env={"LOG_FORMAT": "json", "LOG_LEVEL": "debug"})

    for method in (
        captured.logger.error,
        captured.logger.warn,
        captured.logger.info,
        captured.logger.debug,
    ):
        method("x")

    assert [json.loads(line)["level"] for line in captured.lines] == [
        "error",
        "warn",
        "info",
        "debug",
    ]
