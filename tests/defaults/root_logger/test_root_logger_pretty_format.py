import io
import re
from datetime import UTC, datetime

from backstage_runtime.defaults.root_logger import BackstageLogger

from .fakes import Captured, MakeLogger

ANSI = re.compile(r"\x1b\[\d+m")
FIXED = datetime(2024, 5, 6, 7, 8, 9, 5000, tzinfo=UTC)


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_pretty_line_is_timestamp_prefix_level_message_then_json_fields() -> None:
    stream = io.StringIO()
    logger = BackstageLogger(
        stream=stream, format="pretty", meta={"service": "backstage"}, clock=lambda: FIXED
    )

    logger.info("Request done", {"status": 200, "path": "/api/x", "tags": ["a"], "ok": True})

    assert stream.getvalue() == (
        '2024-05-06T07:08:09.005Z backstage info Request done status=200 path="/api/x" '
        'tags=["a"] ok=true\n'
    )


def test_pretty_line_has_no_trailing_space_without_fields(pretty_logger: Captured) -> None:
    pretty_logger.logger.info("hello")

    assert pretty_logger.lines[0].endswith(" backstage info hello")


def test_pretty_prefix_is_the_plugin_when_there_is_one(pretty_logger: Captured) -> None:
    pretty_logger.logger.child({"plugin": "catalog"}).warn("hello", {"a": 1})

    assert pretty_logger.lines[0].split(" ")[1:] == ["catalog", "warn", "hello", "a=1"]


def test_pretty_prefix_is_the_service_without_a_plugin(pretty_logger: Captured) -> None:
    pretty_logger.logger.info("hello")

    assert pretty_logger.lines[0].split(" ")[1] == "backstage"


def test_pretty_is_uncoloured_when_the_stream_is_not_a_tty(make_logger: MakeLogger) -> None:
    captured = make_logger(env={"LOG_FORMAT": "pretty"})

    captured.logger.info("hello", {"a": 1})

    assert not ANSI.search(captured.text)


def test_pretty_is_coloured_when_the_stream_is_a_tty() -> None:
    stream = TtyStream()
    logger = BackstageLogger(stream=stream, format="pretty", meta={"service": "backstage"})

    logger.error("hello", {"a": 1})

    assert "\x1b[31merror\x1b[39m" in stream.getvalue()
    assert "\x1b[36ma\x1b[39m=1" in stream.getvalue()


def test_pretty_colours_can_be_forced_with_force_color(make_logger: MakeLogger) -> None:
    captured = make_logger(env={"LOG_FORMAT": "pretty", "FORCE_COLOR": "1"})

    captured.logger.info("hello")

    assert "\x1b[32minfo\x1b[39m" in captured.text


def test_pretty_colours_are_off_with_no_color_even_on_a_tty() -> None:
    from backstage_runtime.defaults.root_logger import create_root_logger

    stream = TtyStream()
    logger = create_root_logger(None, stream=stream, env={"LOG_FORMAT": "pretty", "NO_COLOR": "1"})

    logger.info("hello")

    assert not ANSI.search(stream.getvalue())
