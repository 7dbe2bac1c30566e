import pytest

from .fakes import Captured, FakeConfig, MakeLogger

SECRET = "s3cr3t-t0ken"


@pytest.fixture
def json_with_secret(make_logger: MakeLogger) -> Captured:
    return make_logger({}, env={"LOG_FORMAT": "json"}, secrets=[SECRET])


@pytest.fixture
def pretty_with_secret(make_logger: MakeLogger) -> Captured:
    return make_logger({}, env={"LOG_FORMAT": "pretty"}, secrets=[SECRET], colors=False)


def test_config_secret_is_redacted_from_the_json_message(json_with_secret: Captured) -> None:
    json_with_secret.logger.info(f"token is {SECRET}!")

    assert json_with_secret.records[-1]["message"] == "token is ***!"


def test_config_secret_is_redacted_from_json_meta(json_with_secret: Captured) -> None:
    json_with_secret.logger.info("hello", {"nested": {"list": [f"x{SECRET}y"]}})

    assert json_with_secret.records[-1]["nested"] == {"list": ["x***y"]}


def test_config_secret_is_redacted_from_the_pretty_line(pretty_with_secret: Captured) -> None:
    pretty_with_secret.logger.warn(f"token {SECRET}", {"key": SECRET})

    assert SECRET not in pretty_with_secret.text
    assert pretty_with_secret.lines[-1].endswith('warn token *** key="***"')


def test_secret_is_redacted_from_child_loggers(json_with_secret: Captured) -> None:
    json_with_secret.logger.child({"plugin": "catalog"}).error(SECRET)

    assert json_with_secret.records[-1]["message"] == "***"


def test_later_redactions_on_the_root_apply_to_existing_children(json_logger: Captured) -> None:
    child = json_logger.logger.child({"plugin": "catalog"}).child({"task": "t"})

    json_logger.logger.add_redactions(["late-secret"])
    child.info("late-secret here")

    assert json_logger.records[-1]["message"] == "*** here"


def test_found_secrets_are_announced_once(json_with_secret: Captured) -> None:
    assert json_with_secret.records[0]["message"] == (
        "Found 1 new secrets in config that will be redacted"
    )


def test_redactions_are_trimmed_and_one_character_values_skipped(json_logger: Captured) -> None:
    added = json_logger.logger.add_redactions(["  padded-secret\n", "x", "", " "])

    json_logger.logger.info("padded-secret x")

    assert added == 1
    assert json_logger.records[-1]["message"] == "*** x"


def test_longer_secret_is_redacted_whole_when_it_contains_a_shorter_one(
    json_logger: Captured,
) -> None:
    json_logger.logger.add_redactions(["abc", "abcdef"])

    json_logger.logger.info("abcdef")

    assert json_logger.records[-1]["message"] == "***"


def test_regex_characters_in_secrets_are_literal(json_logger: Captured) -> None:
    json_logger.logger.add_redactions(["hello (world"])

    json_logger.logger.error("hello (world) from this file")

    assert json_logger.records[-1]["message"] == "***) from this file"


def test_secret_with_a_quote_is_redacted_from_its_json_escaped_form(json_logger: Captured) -> None:
    json_logger.logger.add_redactions(['pa"ss\\word'])

    json_logger.logger.info('pa"ss\\word')

    assert json_logger.records[-1]["message"] == "***"


def test_reloaded_config_adds_secrets_and_keeps_old_ones(make_logger: MakeLogger) -> None:
    config = FakeConfig({}, ["old-secret"])
    captured = make_logger(config, env={"LOG_FORMAT": "json"})

    config.reload({}, secrets=["new-secret"])
    captured.logger.info("old-secret new-secret")

    assert captured.records[-1]["message"] == "*** ***"


def test_config_without_secret_values_contributes_no_secrets(make_logger: MakeLogger) -> None:
    class PlainConfig(FakeConfig):
        secret_values = None  # type: ignore[assignment]

    captured = make_logger(PlainConfig({}), env={"LOG_FORMAT": "json"})
    captured.logger.info("nothing to hide")

    assert captured.records[-1]["message"] == "nothing to hide"


@pytest.mark.parametrize("key", ["authorization", "Authorization", "AUTHORIZATION"])
def test_authorization_field_is_redacted_in_any_case(json_logger: Captured, key: str) -> None:
    json_logger.logger.info("request", {key: "Token abc"})

    assert json_logger.records[-1][key] == "***"


def test_authorization_header_is_redacted_at_any_depth(json_logger: Captured) -> None:
    json_logger.logger.info("request", {"req": {"headers": {"Authorization": "Token abc"}}})

    assert json_logger.records[-1]["req"] == {"headers": {"Authorization": "***"}}


def test_authorization_field_is_redacted_in_pretty_format(pretty_logger: Captured) -> None:
    pretty_logger.logger.child({"headers": {"authorization": "Token abc"}}).info("request")

    assert pretty_logger.lines[-1].endswith('headers={"authorization":"***"}')


def test_bearer_token_in_text_is_redacted(json_logger: Captured) -> None:
    json_logger.logger.info("sent Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln-_= done")

    assert json_logger.records[-1]["message"] == "sent Authorization: Bearer *** done"


def test_bearer_token_in_a_field_is_redacted(pretty_logger: Captured) -> None:
    pretty_logger.logger.info("calling", {"header": "bearer abc123"})

    assert pretty_logger.lines[-1].endswith('header="bearer ***"')


def test_basic_credentials_in_text_are_redacted(json_logger: Captured) -> None:
    json_logger.logger.info("Basic dXNlcjpwYXNzd29yZA== was sent")

    assert json_logger.records[-1]["message"] == "Basic *** was sent"


def test_basic_followed_by_an_ordinary_word_is_left_alone(json_logger: Captured) -> None:
    json_logger.logger.info("Basic authentication enabled; Basic Configuration loaded")

    assert json_logger.records[-1]["message"] == (
        "Basic authentication enabled; Basic Configuration loaded"
    )
