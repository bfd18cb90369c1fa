import pytest

from ellm_core.goals.prompts import PromptConfig, closed_form_prompt, open_ended_prompt, parse_goals


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("- Chop a tree.\n- Drink water!", ["chop a tree", "drink water"]),
        ("1. collect wood\n2) place table\n(3) make wood pickaxe", ["collect wood", "place table", "make wood pickaxe"]),
        ("* eat cow\n• drink water\n+ sleep", ["eat cow", "drink water", "sleep"]),
        ("collect wood\nplace table", ["collect wood", "place table"]),  # plain lines
        ("1. collect wood 2. place table 3. drink water", ["collect wood", "place table", "drink water"]),
        ("Sure! Here are some goals:\n- collect wood", ["collect wood"]),
        ("- collect wood\n- Collect wood.\n-   collect   WOOD !", ["collect wood"]),  # de-duplicated
        ("Goal 1: find water\nStep 2 - sleep", ["find water", "sleep"]),
        ("a) eat the cow\nb) drink", ["eat the cow", "drink"]),
        ("- make_wood_pickaxe", ["make wood pickaxe"]),
    ],
)
def test_parse_goals_formats(answer, expected):
    assert parse_goals(answer) == expected


@pytest.mark.parametrize(
    "garbage",
    ["", None, "   \n\n  ", "- \n* \n1.", "1. 1. 1. 2. 3.", "x" * 10_000, "🙂🙂🙂 ✨✨", "----", "12345\n678", 42],
)
def test_parse_goals_garbage_gives_empty_list(garbage):
    assert parse_goals(garbage) == []


def test_parse_goals_caps_number_length_and_keeps_non_ascii_words():
    answer = "\n".join(f"- goal number {i}" for i in range(20))
    assert len(parse_goals(answer, max_goals=3)) == 3
    long_goal = parse_goals("- " + " ".join(["word"] * 100), max_words=12)[0]
    assert len(long_goal.split()) == 12
    assert parse_goals("- récolter du bois 🌲") == ["récolter du bois"]
    assert all(len(goal) <= 80 for goal in parse_goals("- " + "abcdefghij " * 50))


def test_open_ended_prompt_has_actions_observation_question_and_few_shot():
    config = PromptConfig.load()
    chat = open_ended_prompt("You see a tree.", ["move_left", "do"], config)
    assert chat[0]["role"] == "system"
    assert chat[-1]["role"] == "user"
    assert chat[-1]["content"] == "Valid actions: move left, do.\nYou see a tree.\nWhat would you do?"
    assert len(chat) == 2 + 2 * len(config.few_shot)
    assert len(open_ended_prompt("x", ["do"], config.without_few_shot())) == 2


def test_closed_form_prompt_asks_yes_no_for_the_goal():
    chat = closed_form_prompt("You see a tree.", ["do"], "collect wood", PromptConfig.load())
    assert "Should the agent collect wood now? Answer Yes or No." in chat[-1]["content"]


def test_prompt_override_file_and_bad_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("open_ended: '{observation} / {actions} / What would you do?'\nfew_shot: []\n")
    config = PromptConfig.load(path)
    assert open_ended_prompt("obs", ["a"], config)[-1]["content"] == "obs / a / What would you do?"
    bad = tmp_path / "bad.yaml"
    bad.write_text("few_shot:\n  - observation: only this\n")
    with pytest.raises(ValueError, match="few-shot example needs"):
        PromptConfig.load(bad)
