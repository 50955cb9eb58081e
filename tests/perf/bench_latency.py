"""Speed: per-message latency, throughput, startup and memory of Frontline,
side by side with Rasa's sample bot on the same engine and machine.

    .venv/app/bin/python -m tests.perf.bench_latency [--channels socket,rest] [--skip-handoff]

1. Starts Frontline (action server, Rasa, handoff service talking to a local
   imitation of Slack) and the ``rasa init`` sample bot
   (``tests.perf.baseline_bot``), timing each start and reading each
   process's memory at rest.
2. Times handoffs one by one (``tests.perf.handoff_timing``).
3. For each channel and each concurrency level (``FRONTLINE_PERF_CONCURRENCY``,
   default 1,10,50) runs the load generator (``tests.perf.loadgen``, its own
   process) for ``FRONTLINE_PERF_LEVEL_SECONDS`` (default 20) against
   Frontline, then against the baseline, so each pair is measured minutes apart
   at most; memory peaks are sampled meanwhile, and the CPU time each process
   used during the level is divided by the replies of the level
   (``cpu.<channel>.c<n>.<process>_ms_per_msg``): on a shared 2-core machine
   CPU per message is steadier than wall-clock throughput.

Headline figures (flat names in ``var/bench/latest.json``) are over the socket
channel, which both bots serve with the same code (``bot/engine/channel.py``):
``latency.<kind>_p50_ms`` etc. with one customer, ``throughput.c10_msgs_per_s``
with ten. The REST figures are there to compare with the baseline measured in
FACTS.md. Frontline's Rasa gets the REST channel added for this run only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from launcher.stack import ROOT as STACK_ROOT
from launcher.stack import Service, free_port
from tests.perf import baseline_bot, handoff_timing, memory
from tests.perf.common import (
    HarnessError,
    PerfSettings,
    Section,
    load_perf_settings,
    percentile,
    ratio,
    say,
    write_results,
)
from tests.perf.stack_run import Run, frontline

KINDS = ("greeting", "smalltalk", "kb", "form_start", "form_step", "escalation")
LOADGEN_GRACE_SECONDS = 90.0
# Process names (as in Stack.services) counted as each bot's CPU per message.
FRONTLINE_PROCESSES = ("actions", "rasa", "handoff")
BASELINE_PROCESS = "baseline-rasa"


def loadgen(
    settings: PerfSettings, url: str, channel: str, mix: str, customers: int, out: Path
) -> dict[str, Any]:
    argv = [
        sys.executable, "-m", "tests.perf.loadgen",
        "--url", url, "--channel", channel, "--mix", mix,
        "--customers", str(customers), "--seconds", str(settings.level_seconds),
        "--out", str(out),
    ]  # fmt: skip
    try:
        subprocess.run(
            argv, cwd=STACK_ROOT, check=True, timeout=settings.level_seconds + LOADGEN_GRACE_SECONDS
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise HarnessError(f"load generator failed: {error}") from error
    return dict(json.loads(out.read_text()))


def stats(samples: list[dict[str, Any]]) -> dict[str, float]:
    values = [s["ms"] for s in samples if s["ok"]]
    return {
        "p50_ms": percentile(values, 50),
        "p95_ms": percentile(values, 95),
        "p99_ms": percentile(values, 99),
        "count": len(values),
        "errors": sum(not s["ok"] for s in samples),
    }


def cpu_ms_per_message(
    before: dict[str, float], after: dict[str, float], result: dict[str, Any]
) -> dict[str, float]:
    """CPU milliseconds per reply of each process during one level (the load
    generator's own included, as ``loadgen``)."""
    handled = max(int(result.get("handled", 0)), 1)
    cpu = {name: (after[name] - before[name]) * 1000 / handled for name in before}
    cpu["loadgen"] = float(result.get("cpu_seconds", 0.0)) * 1000 / handled
    return {name: round(value, 2) for name, value in cpu.items()}


def summarise_level(result: dict[str, Any]) -> dict[str, Any]:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sample in result["samples"]:
        by_kind[sample["kind"]].append(sample)
    return {
        "customers": result["customers"],
        "messages_per_second": result["messages_per_second"],
        "errors": result["errors"],
        "error_examples": result["error_examples"],
        "all": stats(result["samples"]),
        "kinds": {kind: stats(samples) for kind, samples in sorted(by_kind.items())},
        # what the bot answered to each kind of message, most common first
        "answers": {
            kind: Counter(s["answer"] for s in samples).most_common(3)
            for kind, samples in sorted(by_kind.items())
        },
    }


def pids(services: list[Service]) -> dict[str, int]:
    return {s.name: s.process.pid for s in services if s.process is not None}


def measure_levels(
    settings: PerfSettings,
    section: Section,
    ours: Run,
    baseline: Service,
    baseline_url: str,
    channels: list[str],
) -> None:
    work = settings.resolved(settings.bench_dir) / "work"
    levels: dict[str, Any] = section.details.setdefault("levels", {})
    peaks: dict[str, float] = {}
    processes = pids([*ours.stack.services, baseline])
    for channel in channels:
        for customers in settings.levels:
            for bot, url, mix in (
                ("frontline", ours.stack.rasa_url, "frontline"),
                ("baseline", baseline_url, "baseline"),
            ):
                seconds = settings.level_seconds
                say(f"load: {bot} over {channel}, {customers} customers, {seconds:.0f} s")
                out = work / f"{bot}-{channel}-c{customers}.json"
                sampler = memory.PeakSampler(processes) if memory.available() else None
                cpu_known = memory.cpu_available()
                before = {n: memory.cpu_seconds(pid) for n, pid in processes.items() if cpu_known}
                if sampler is not None:
                    with sampler:
                        result = loadgen(settings, url, channel, mix, customers, out)
                    for name, value in sampler.peaks.items():
                        peaks[name] = max(peaks.get(name, 0.0), value)
                else:
                    result = loadgen(settings, url, channel, mix, customers, out)
                after = {n: memory.cpu_seconds(pid) for n, pid in processes.items() if cpu_known}
                summary = summarise_level(result)
                summary["load_average"] = os.getloadavg()
                if cpu_known:
                    own = (*FRONTLINE_PROCESSES, "loadgen") if bot == "frontline" else (
                        BASELINE_PROCESS, "loadgen"
                    )  # fmt: skip
                    cpu = cpu_ms_per_message(before, after, result)
                    summary["cpu_ms_per_msg"] = {name: cpu[name] for name in own if name in cpu}
                    prefix = f"cpu.{channel}.c{customers}.{bot}"
                    section.put(
                        {
                            f"{prefix}.{name.replace('-', '_')}_ms_per_msg": value
                            for name, value in summary["cpu_ms_per_msg"].items()
                        }
                    )
                levels[f"{bot}.{channel}.c{customers}"] = summary
                say(
                    f"  {summary['messages_per_second']:.1f} msg/s, p50 "
                    f"{summary['all']['p50_ms']:.0f} ms, p95 {summary['all']['p95_ms']:.0f} ms, "
                    f"{summary['errors']} errors"
                )
    for name, value in peaks.items():
        section.put({f"memory.{name.replace('-', '_')}_peak_mb": value})


def measure_pairs(
    settings: PerfSettings, section: Section, ours: Run, baseline_url: str, channel: str
) -> None:
    """More Frontline/baseline runs at 10 customers after the level's own
    pair, in alternating order (baseline first in every other pair), so the
    throughput ratio does not rest on one pair on a machine whose speed drifts."""
    first = section.details.get("levels", {})
    if f"frontline.{channel}.c10" not in first or f"baseline.{channel}.c10" not in first:
        return
    pairs = [
        {
            "frontline": first[f"frontline.{channel}.c10"]["messages_per_second"],
            "baseline": first[f"baseline.{channel}.c10"]["messages_per_second"],
        }
    ]
    work = settings.resolved(settings.bench_dir) / "work"
    for index in range(1, settings.throughput_pairs):
        runs = (("frontline", ours.stack.rasa_url), ("baseline", baseline_url))
        pair: dict[str, float] = {}
        for bot, url in runs[::-1] if index % 2 else runs:
            say(f"pair {index + 1}/{settings.throughput_pairs}: {bot} over {channel}, 10 customers")
            out = work / f"pair{index}-{bot}-{channel}-c10.json"
            result = loadgen(settings, url, channel, bot, 10, out)
            pair[bot] = result["messages_per_second"]
            say(f"  {pair[bot]:.1f} msg/s, {result['errors']} errors")
        pairs.append(pair)
    section.details["throughput_pairs"] = pairs


def headline(section: Section, channels: list[str], levels: list[int]) -> None:
    """The flat metric names of the results file, from the level summaries."""
    table = section.details.get("levels", {})
    values: dict[str, float | None] = {}
    for channel in channels:
        for customers in levels:
            ours = table.get(f"frontline.{channel}.c{customers}")
            base = table.get(f"baseline.{channel}.c{customers}")
            if ours is None or base is None:
                continue
            prefix = f"{channel}.c{customers}"
            values[f"throughput.{prefix}_msgs_per_s"] = ours["messages_per_second"]
            values[f"throughput.{prefix}_baseline_msgs_per_s"] = base["messages_per_second"]
            for kind, kind_stats in ours["kinds"].items():
                for p in ("p50", "p95", "p99"):
                    values[f"latency.{prefix}.{kind}_{p}_ms"] = kind_stats[f"{p}_ms"]
            for p in ("p50", "p95", "p99"):
                values[f"latency.{prefix}.baseline_{p}_ms"] = base["all"][f"{p}_ms"]
                values[f"latency.{prefix}.all_{p}_ms"] = ours["all"][f"{p}_ms"]
            if ours.get("cpu_ms_per_msg") and base.get("cpu_ms_per_msg"):
                # the bot's own processes; the load generator is the customers' side
                values[f"cpu.{prefix}_ms_per_msg"] = sum(
                    ours["cpu_ms_per_msg"].get(name, 0.0) for name in FRONTLINE_PROCESSES
                )
                values[f"cpu.{prefix}_baseline_ms_per_msg"] = base["cpu_ms_per_msg"].get(
                    BASELINE_PROCESS, 0.0
                )
            values[f"errors.{prefix}"] = ours["errors"]
            values[f"errors.{prefix}_baseline"] = base["errors"]
    main = "socket" if "socket" in channels else channels[0]
    one, ten = f"{main}.c1", f"{main}.c10"
    for kind in KINDS:
        for p in ("p50", "p95", "p99"):
            values[f"latency.{kind}_{p}_ms"] = values.get(f"latency.{one}.{kind}_{p}_ms")
    for p in ("p50", "p95", "p99"):
        values[f"latency.baseline_{p}_ms"] = values.get(f"latency.{one}.baseline_{p}_ms")
    values["latency.kb_p50_ratio_vs_baseline"] = ratio(
        values.get("latency.kb_p50_ms"), values.get("latency.baseline_p50_ms")
    )
    values["throughput.c10_msgs_per_s"] = values.get(f"throughput.{ten}_msgs_per_s")
    values["throughput.baseline_c10_msgs_per_s"] = values.get(
        f"throughput.{ten}_baseline_msgs_per_s"
    )
    values["cpu.c10_ms_per_msg"] = values.get(f"cpu.{ten}_ms_per_msg")
    values["cpu.baseline_c10_ms_per_msg"] = values.get(f"cpu.{ten}_baseline_ms_per_msg")
    values["throughput.c10_ratio_vs_baseline"] = ratio(
        values["throughput.c10_msgs_per_s"], values["throughput.baseline_c10_msgs_per_s"]
    )
    pairs = section.details.get("throughput_pairs", [])
    if len(pairs) > 1:
        # the median of the pairs (each pair measured minutes apart at most)
        ratios = [p["frontline"] / p["baseline"] for p in pairs if p["baseline"] > 0]
        values["throughput.c10_msgs_per_s"] = percentile([p["frontline"] for p in pairs], 50)
        values["throughput.baseline_c10_msgs_per_s"] = percentile(
            [p["baseline"] for p in pairs], 50
        )
        values["throughput.c10_ratio_vs_baseline"] = percentile(ratios, 50)
        values["throughput.c10_ratio_min"] = min(ratios)
        values["throughput.c10_ratio_max"] = max(ratios)
        values["throughput.c10_pairs"] = len(ratios)
    if "rest" in channels:
        values["latency.baseline_rest_p50_ms"] = values.get("latency.rest.c1.baseline_p50_ms")
        values["latency.kb_rest_p50_ms"] = values.get("latency.rest.c1.kb_p50_ms")
    section.put(values)


def rest_memory(section: Section, services: list[Service]) -> None:
    if not memory.available():
        section.skip("memory", "psutil is not installed in the app environment")
        return
    for name, pid in pids(services).items():
        section.put({f"memory.{name.replace('-', '_')}_rest_mb": memory.rss_mb(pid)})


def run(settings: PerfSettings, channels: list[str], handoff: bool = True) -> Section:
    from tests.handoff.mock_slack import MockSlack

    section = Section("bench")
    started = time.monotonic()
    bench_dir = settings.resolved(settings.bench_dir)
    run_dir = bench_dir / "run" / time.strftime("%Y%m%d-%H%M%S")
    bot = baseline_bot.ensure(settings)
    section.details["load_average_start"] = os.getloadavg()
    with MockSlack() as slack:
        handoff_timing.prepare(slack)
        with frontline(
            run_dir, bench_dir / "state", section, handoff=True,
            slack_url=slack.url, slack_token=slack.token, rest_channel="rest" in channels,
        ) as ours:  # fmt: skip
            for name, seconds in ours.startup_seconds.items():
                section.put({f"startup.{name}_s": seconds})
            port = free_port()
            token = ours.stack.token
            baseline = baseline_bot.rasa_service(
                settings, bot, "127.0.0.1", port, token, run_dir / "log" / "baseline-rasa.log"
            )
            begin = time.monotonic()
            ours.stack.start([baseline])  # stopped with the stack
            section.put({"startup.baseline_rasa_s": time.monotonic() - begin})
            rest_memory(section, ours.stack.services)
            if handoff:
                timings = asyncio.run(handoff_timing.measure(ours, slack, settings.handoff_samples))
                section.put(handoff_timing.summary(timings))
                section.details["handoff"] = timings
            measure_levels(settings, section, ours, baseline, f"http://127.0.0.1:{port}", channels)
            if 10 in settings.levels:
                main = "socket" if "socket" in channels else channels[0]
                measure_pairs(settings, section, ours, f"http://127.0.0.1:{port}", main)
    headline(section, channels, settings.levels)
    section.details["load_average_end"] = os.getloadavg()
    section.details["channels"] = channels
    section.details["level_seconds"] = settings.level_seconds
    section.details["baseline_model"] = bot.model.name
    section.seconds = time.monotonic() - started
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", default="socket,rest", help="socket, rest or both")
    parser.add_argument("--skip-handoff", action="store_true")
    args = parser.parse_args(argv)
    settings = load_perf_settings()
    channels = [c for c in args.channels.split(",") if c in ("socket", "rest")]
    section = run(settings, channels, handoff=not args.skip_handoff)
    path = write_results(settings.resolved(settings.bench_dir), [section])
    say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
