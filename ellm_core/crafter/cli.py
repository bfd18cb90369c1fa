"""``ellm crafter train|eval|compare|prewarm|record|suggester`` (``ellm goals eval`` is in goals_cli).

``train`` is ``ellm train`` on ``ellm/Crafter-v0`` with Crafter's defaults (its prompts, no extrinsic reward
as in the paper's pretraining, crafter's ``stats.jsonl`` in the run directory) and ends with the eval table.
``eval`` scores run directories (seeds aggregated as mean ± std); the others are documented on their commands.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from pathlib import Path

from ellm_core.resources import data_resource

logger = logging.getLogger(__name__)

#: TrainConfig values that differ on Crafter (explicit flags still win).
CRAFTER_DEFAULTS = {"env_id": "ellm/Crafter-v0", "keep_extrinsic": False, "goal_source": "distilled"}


def crafter_train_defaults(preset: str | None, profile: str | None = None):
    """The TrainConfig defaults of ``ellm crafter train`` under ``preset`` (budgets) and ``profile`` (reward
    values, :mod:`ellm_core.crafter.profiles`)."""
    from ellm_core.crafter.profiles import apply_profile
    from ellm_core.run.config import TrainConfig, apply_preset, updated

    defaults = updated(TrainConfig(), **CRAFTER_DEFAULTS, prompts=data_resource("crafter/prompts.yaml"))
    return apply_profile(apply_preset(defaults, preset), profile)


def add_profile_argument(parser: argparse.ArgumentParser) -> None:
    """``--profile NAME``: a reward profile's values become the defaults (explicit flags still win)."""
    from ellm_core.crafter.profiles import PROFILES

    parser.add_argument("--profile", choices=tuple(PROFILES), default=None,
                        help="reward profile: 'paper' is the official ELLM configuration in the official game "
                        "(ellm/CrafterPaper-v0, threshold 0.99, each goal once per episode, no health reward, LM "
                        "temperature 0.1; deviations in the README); 'paper-crafter' the same values in crafter's "
                        "game with its health reward kept")


def add_crafter_command(commands: argparse._SubParsersAction, train_defaults=None, suggester_defaults=None) -> None:
    """Add ``crafter train``, ``crafter eval`` and ``crafter suggester`` to the ``ellm`` subcommands."""
    from ellm_core.config import add_dataclass_arguments
    from ellm_core.crafter.suggester import PRESETS, SuggesterConfig
    from ellm_core.run.cli import add_train_arguments

    crafter = commands.add_parser("crafter", help="the Crafter reproduction: train and evaluate",
                                  description=__doc__.splitlines()[0])
    actions = crafter.add_subparsers(dest="crafter_command", metavar="ACTION", required=True)
    train = actions.add_parser("train", help="train on Crafter with an intrinsic reward; writes stats.jsonl",
                               description=cmd_train.__doc__)
    add_train_arguments(train, train_defaults or crafter_train_defaults(None))
    add_profile_argument(train)
    train.add_argument("--length", type=int, default=None,
                       help="episode length (crafter's default 10000; the paper's config used 400)")
    train.add_argument("--video-every", type=int, default=0, metavar="K",
                       help="record an evaluation episode (MP4) every K steps into RUN/videos, to watch learning")
    train.set_defaults(handler=cmd_train)
    prewarm = actions.add_parser("prewarm", help="fill the LLM cache with the goals of situations met in cheap "
                                 "play, in large batches, so that an ELLM training run hits the cache",
                                 description=cmd_prewarm.__doc__)
    add_train_arguments(prewarm, train_defaults or crafter_train_defaults(None))
    add_profile_argument(prewarm)
    prewarm.add_argument("--length", type=int, default=400, help="episode length of the play")
    prewarm.add_argument("--policy", choices=("random", "scripted", "agent", "labels"), default="random",
                         help="who plays (agent: the trained runs of --agents, each --steps steps; labels: nobody, "
                              "the situations of --situations-from)")
    prewarm.add_argument("--situations-from", default=None, metavar="LABELS",
                         help="--policy labels: a label file whose situations are answered (another LM, the same "
                              "coverage)")
    prewarm.add_argument("--agents", nargs="+", default=None, metavar="RUN",
                         help="--policy agent: training runs whose qnet.pt plays (e.g. results/crafter/100k/runs/*)")
    prewarm.add_argument("--agent-epsilon", type=float, default=0.05, help="--policy agent: share of random actions")
    prewarm.add_argument("--labels-out", default=None, metavar="FILE.jsonl",
                         help="ranked goals: also write the situations' label file (observation, actions, model, "
                              "calibrated scores, goals), which `ellm cache import` reads")
    prewarm.add_argument("--check-steps", type=int, default=2_000,
                         help="steps of held-out play (seed + 1) whose cache coverage is reported")
    prewarm.add_argument("--batch", type=int, default=64, help="situations per goal-generation call")
    prewarm.add_argument("--json", action="store_true", help="print the report as JSON")
    prewarm.set_defaults(handler=cmd_prewarm)
    record = actions.add_parser("record", help="episode videos with goals, captions and rewards drawn on the frames",
                                description=cmd_record.__doc__)
    record.add_argument("run", nargs="?", default=None, help="a training run directory (its config and last "
                        "checkpoint); without one, --policy random or scripted under --reward")
    record.add_argument("--episodes", type=int, default=1, help="episodes to record")
    record.add_argument("--seed", type=int, default=0, help="seed of the recorded worlds and the policy")
    record.add_argument("--policy", choices=("agent", "random", "scripted"), default=None,
                        help="who plays (default: agent with a run, random without)")
    record.add_argument("--reward", choices=("ellm", "oracle", "none"), default="oracle",
                        help="without a run: whose goals and reward are shown (ellm asks the default LM)")
    record.add_argument("--max-steps", type=int, default=None, help="stop each episode after this many steps")
    record.add_argument("--fps", type=int, default=10, help="frames per second")
    record.add_argument("--out", default=None, help="directory of the videos (default: RUN/videos or runs/videos)")
    record.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    record.set_defaults(handler=cmd_record)
    evaluate = actions.add_parser("eval", help="success rate per achievement and the Crafter score",
                                  description=cmd_eval.__doc__)
    evaluate.add_argument("runs", nargs="+", help="run directories (each with stats.jsonl); seeds are aggregated")
    evaluate.add_argument("--out", default=None, help="where to write eval.json and the plots (default: first run)")
    evaluate.add_argument("--json", action="store_true", help="print the summary as JSON instead of a table")
    evaluate.add_argument("--video", type=int, default=0, metavar="N",
                          help="also record N evaluation episodes of the first run (MP4, GIF fallback)")
    evaluate.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    evaluate.set_defaults(handler=cmd_eval)
    from ellm_core.crafter.analysis.compare import cmd_compare

    comparison = actions.add_parser("compare", help="compare methods over seeds: Crafter score with bootstrap CIs, "
                                    "Welch tests, success rates, achievement curves", description=cmd_compare.__doc__)
    comparison.add_argument("dirs", nargs="+", help="folders of <method>-seed<S> run directories (a sweep's out)")
    comparison.add_argument("--methods", nargs="+", default=None, help="these methods, in this order (default: all)")
    comparison.add_argument("--baseline", nargs="+", default=["none", "novelty"], help="reference methods of the tests")
    comparison.add_argument("--bins", type=int, default=20, help="step bins of the achievement curves")
    comparison.add_argument("--include-unfinished", action="store_true",
                            help="also runs still training (no summary.json yet)")
    comparison.add_argument("--out", default=None, help="output folder (default: FIRST_DIR/compare)")
    comparison.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    comparison.set_defaults(handler=cmd_compare)
    suggester = actions.add_parser("suggester", help="LoRA-fine-tune a goal suggester on (caption -> achievable "
                                   "goals) from seeded play (its own baseline, not ELLM)",
                                   description=cmd_suggester.__doc__)
    suggester.add_argument("--preset", choices=tuple(PRESETS), default=None,
                           help="budget preset; explicit flags override it")
    suggester.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    add_dataclass_arguments(suggester, SuggesterConfig)
    if suggester_defaults is not None:
        suggester.set_defaults(**dataclasses.asdict(suggester_defaults))
    suggester.set_defaults(handler=cmd_suggester)


def cmd_train(args: argparse.Namespace) -> int:
    """Train DQN on Crafter with the chosen intrinsic reward; stats.jsonl, curves and the eval table land in --out."""

    import ellm_core.crafter  # noqa: F401  (registers ellm/Crafter-v0)
    from ellm_core.crafter.stats import StatsWriter
    from ellm_core.crafter.video import periodic_videos
    from ellm_core.run.checkpoint import resume_checkpoint
    from ellm_core.run.cli import train_config_from_args
    from ellm_core.run.config import check_config
    from ellm_core.run.train import train

    config = train_config_from_args(args)
    check_config(config)
    env_kwargs = config.env_arguments()
    if args.length is not None and args.length < 1:
        raise ValueError(f"--length {args.length}: must be at least 1 step")
    if args.length is not None:
        env_kwargs["length"] = args.length
    env_kwargs.setdefault("pixels", False)  # no agent here reads pixels: the text fast path
    config = dataclasses.replace(config, env_kwargs=json.dumps(env_kwargs))
    checkpoint = resume_checkpoint(config.out, config.resume, config.overwrite)
    resume_step = int(checkpoint.stem.split("_")[1]) if checkpoint is not None else None
    config = dataclasses.replace(config, overwrite=False)  # cleared above
    train(config, episode_hook=StatsWriter(Path(config.out) / "stats.jsonl", resume_step),
          step_hook=periodic_videos(config, args.video_every) if getattr(args, "video_every", 0) else None,
          start_from=checkpoint)
    return cmd_eval(argparse.Namespace(runs=[config.out], out=None, json=False))


def cmd_prewarm(args: argparse.Namespace) -> int:
    """Play --steps cheap steps, then answer every unique situation into --cache with the LM and prompt flags of
    the training run (the same flags give the same cache keys); prints the coverage on a held-out play."""

    from ellm_core.crafter.prewarm import format_report, prewarm
    from ellm_core.run.cli import train_config_from_args

    config = train_config_from_args(args)
    config = dataclasses.replace(config, env_kwargs=json.dumps({**config.env_arguments(), "length": args.length}))
    report = prewarm(config, policy=args.policy, check_steps=args.check_steps, batch_size=args.batch,
                     agents=args.agents, agent_epsilon=args.agent_epsilon, labels_out=args.labels_out,
                     situations_from=args.situations_from)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    """Record episodes as MP4 (GIF fallback): the frame, the caption, the goals, what each step achieved, the
    reward when a goal fires, the intrinsic return and the achievements so far."""
    from ellm_core.crafter.video import record_episodes, write_video
    from ellm_core.run.assembly import load_train_config

    policy = args.policy or ("agent" if args.run else "random")
    if args.run:
        config = load_train_config(args.run)
    else:
        config = dataclasses.replace(crafter_train_defaults(None), reward=args.reward,
                                     env_kwargs=json.dumps({"length": 400}))
    out = Path(args.out or (Path(args.run) / "videos" if args.run else Path("runs") / "videos"))
    videos = record_episodes(config, args.episodes, args.seed, policy, args.run, args.max_steps)
    for index, frames in enumerate(videos):
        path = write_video(frames, out / f"{policy}-seed{args.seed}-episode{index}.mp4", fps=args.fps)
        print(f"wrote {path} ({len(frames)} frames)")
    return 0


def cmd_suggester(args: argparse.Namespace) -> int:
    """Fine-tune the Crafter goal suggester; RUN/adapter then serves as `--lm-adapter RUN/adapter --no-few-shot`."""
    from ellm_core.config import dataclass_from_args
    from ellm_core.crafter.suggester import SuggesterConfig, train_suggester

    metrics = train_suggester(dataclass_from_args(SuggesterConfig, args))
    print(json.dumps(metrics, indent=2))
    print(f"adapter: {Path(args.out) / 'adapter'}; score it with `ellm goals eval --lm-adapter "
          f"{Path(args.out) / 'adapter'} --no-few-shot --name 'LoRA suggester'`")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Score runs from crafter's stats.jsonl: success rate of each achievement and the Crafter score."""
    from ellm_core.crafter.score import aggregate, format_table, plot_episode_curves, plot_success, score_run

    scores = [score_run(run) for run in args.runs]
    summary = aggregate(scores)
    summary["per_run"] = [{"run": s.run, "episodes": s.episodes, "score": s.score,
                           "achievements_per_episode": s.achievements_mean, "reward": s.reward_mean,
                           "length": s.length_mean, "success_rates": s.rates} for s in scores]
    out = Path(args.out or args.runs[0])
    out.mkdir(parents=True, exist_ok=True)
    (out / "crafter_eval.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    plot_success(summary, out / "crafter_success.png")
    plot_episode_curves(args.runs, out / "crafter_episodes.png")
    print(json.dumps(summary, indent=2) if args.json else format_table(summary))
    print(f"wrote {out / 'crafter_eval.json'}, crafter_success.png, crafter_episodes.png")
    if getattr(args, "video", 0):
        cmd_record(argparse.Namespace(run=args.runs[0], episodes=args.video, seed=0, policy="agent", reward=None,
                                      max_steps=None, fps=10, out=str(out / "videos")))
    return 0
