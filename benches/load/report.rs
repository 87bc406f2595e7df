//! `report`: `BENCHMARKS.md` from a run directory written by `scripts/load.sh`, with the
//! chart. Layout read: `RUN/machine.md`, `RUN/commands.md`, `RUN/method.md`, and per server
//! and store `RUN/<adapter>-<store>/meta.json` plus `RUN/<adapter>-<store>/<scenario>/<run>/`
//! (see [`crate::oha::Run::read`]); sweep runs are `s00`, `s01`… and the closed-loop
//! capacity probe `probe`; single runs are `fixed`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::Args;
use crate::chart::{self, Series};
use crate::oha::{Run, read_json};

/// The sweep scenarios, in table order: directory name and title.
const SWEEPS: [(&str, &str); 7] = [
    (
        "baseline",
        "Bare baseline: `GET /health/live` (no auth, no storage, same stack)",
    ),
    (
        "list",
        "Authenticated list, 20 items: `GET /api/v1/tasks?limit=20`",
    ),
    (
        "list_gzip",
        "Authenticated list, 20 items, gzip-coded (`Accept-Encoding: gzip`; compression costs server CPU)",
    ),
    (
        "list_filtered",
        "Authenticated list, 20 items, filtered: `GET /api/v1/tasks?limit=20&completed=false&priority=high&sort=due_at`",
    ),
    (
        "get",
        "Get by id: `GET /api/v1/tasks/{id}` (ids drawn at random from 200)",
    ),
    ("create", "Create: `POST /api/v1/tasks`"),
    (
        "patch",
        "Patch: `PATCH /api/v1/tasks/{id}` (ids drawn at random from 200)",
    ),
];

/// A sweep step passes while the server keeps up: at least 95% of the asked rate, under
/// 0.1% errors and a p99 below this bound.
const P99_LIMIT_MS: f64 = 100.0;

/// One server and store of the run.
struct Combo {
    name: String,
    dir: PathBuf,
    meta: Value,
}

impl Combo {
    fn runs(&self, scenario: &str) -> Vec<(String, Run)> {
        let dir = self.dir.join(scenario);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|name| Run::read(&dir.join(&name)).ok().map(|run| (name, run)))
            .collect()
    }

    fn fixed(&self, scenario: &str) -> Option<Run> {
        Run::read(&self.dir.join(scenario).join("fixed")).ok()
    }

    fn is_memory(&self) -> bool {
        self.name.ends_with("-memory")
    }

    fn kb(&self, key: &str) -> Option<f64> {
        self.meta[key].as_f64()
    }
}

/// A sweep's outcome: the saturation throughput, the closed-loop probe's rate and the
/// half-load run.
struct Sweep {
    saturation: Option<f64>,
    probe: Option<f64>,
    half: Option<Run>,
    peak_rss_kb: u64,
    curve: Vec<(f64, f64)>,
}

fn passes(run: &Run) -> bool {
    let (errors, attempts) = run.errors();
    let p99 = run.loads.iter().map(|l| l.p[2]).fold(0.0, f64::max);
    run.rps() >= 0.95 * run.server.requested
        && crate::oha::to_f64(errors) <= 0.001 * crate::oha::to_f64(attempts)
        && p99 < P99_LIMIT_MS
}

fn sweep(combo: &Combo, scenario: &str) -> Sweep {
    let runs = combo.runs(scenario);
    let steps: Vec<&Run> = runs
        .iter()
        .filter(|(name, _)| name.starts_with('s'))
        .map(|(_, run)| run)
        .collect();
    let saturation = steps
        .iter()
        .filter(|r| passes(r))
        .map(|r| r.rps())
        .fold(None, |best: Option<f64>, x| {
            Some(best.map_or(x, |b| b.max(x)))
        });
    let half = steps
        .iter()
        .min_by(|a, b| {
            let d = |r: &Run| (r.server.fraction.unwrap_or(9.0) - 0.5).abs();
            d(a).total_cmp(&d(b))
        })
        .map(|r| (*r).clone());
    let curve = steps
        .iter()
        .filter_map(|r| r.loads.first().map(|l| (l.rps, l.p[2])))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let probe = runs
        .iter()
        .find(|(name, _)| name == "probe")
        .map(|(_, run)| run.rps());
    Sweep {
        saturation,
        probe,
        half,
        peak_rss_kb: runs
            .iter()
            .map(|(_, r)| r.server.peak_rss_kb)
            .max()
            .unwrap_or(0),
        curve,
    }
}

fn ms(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "–".into()
    }
}

fn mb(kb: f64) -> String {
    format!("{:.1}", kb / 1024.0)
}

fn percent(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// A scenario's two throughput figures on one server and store: the open-loop sweep's and
/// the closed-loop probe's.
#[derive(Debug, Clone, Copy, Default)]
struct Rates {
    sweep: Option<f64>,
    probe: Option<f64>,
}

impl Rates {
    fn of(s: &Sweep) -> Self {
        Self {
            sweep: s.saturation,
            probe: s.probe,
        }
    }

    /// `f` of each figure and the other's figure of the same kind.
    fn with(self, other: Self, f: impl Fn(f64, f64) -> Option<f64>) -> Self {
        let both = |x: Option<f64>, y: Option<f64>| x.zip(y).and_then(|(x, y)| f(x, y));
        Self {
            sweep: both(self.sweep, other.sweep),
            probe: both(self.probe, other.probe),
        }
    }

    /// Each figure over `base`'s of the same kind.
    fn ratio(self, base: Self) -> Self {
        self.with(base, |x, b| (b > 0.0).then(|| x / b))
    }

    /// The two figures, named.
    fn ways(self) -> [(&'static str, Option<f64>); 2] {
        [
            ("open-loop sweep", self.sweep),
            ("closed-loop probe", self.probe),
        ]
    }
}

/// Each combination's rates for one scenario, by combination name.
type RatesByCombo = Vec<(String, Rates)>;

fn rates_of(v: &RatesByCombo, name: &str) -> Rates {
    v.iter()
        .find(|(c, _)| c == name)
        .map(|(_, r)| *r)
        .unwrap_or_default()
}

pub(crate) fn run(args: &Args) -> Result<(), String> {
    let run_dir = PathBuf::from(args.text("run")?);
    let out = PathBuf::from(args.text("out")?);
    let chart_path = PathBuf::from(args.text("chart")?);
    let combos = combos(&run_dir)?;
    let mut md = String::new();
    let read = |name: &str| std::fs::read_to_string(run_dir.join(name)).unwrap_or_default();
    md.push_str("# TaskFlow benchmarks\n\n");
    md.push_str("Generated by `scripts/load.sh` (do not edit by hand; rerun it).\n\n");
    md.push_str(&read("method.md"));
    md.push_str("\n## Machine\n\n");
    md.push_str(&read("machine.md"));
    md.push_str("\n## Commands\n\n");
    md.push_str(&read("commands.md"));
    let incidents = read("incidents.md");
    if !incidents.trim().is_empty() {
        md.push_str("\n## Incidents of this run\n\n```text\n");
        md.push_str(&incidents);
        md.push_str("```\n");
    }
    // A run of some parts only (`scripts/load.sh --only`) may have no server and store of
    // its own: no sweeps, no chart.
    if !combos.is_empty() {
        let chart_rel = relative(&chart_path, out.parent().unwrap_or(Path::new(".")));
        let _ = write!(
            md,
            "\n## Latency against throughput\n\n![p99 latency against achieved throughput]({chart_rel})\n\n"
        );
        md.push_str("Each point is one open-loop step of a rate sweep (p99 of that step, log scale); thick lines are the bare baseline, thin ones the authenticated 20-item list.\n");
    }

    let mut baselines = RatesByCombo::new();
    let mut series = Vec::new();
    let mut lists = RatesByCombo::new();
    for &(scenario, title) in SWEEPS.iter().filter(|_| !combos.is_empty()) {
        let _ = write!(md, "\n## {title}\n\n");
        md.push_str("| server | store | throughput (req/s) | closed-loop req/s | of baseline | closed-loop of baseline | rate of latency row (req/s) | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | server CPU (cores) | peak RSS MB |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for combo in &combos {
            let s = sweep(combo, scenario);
            if scenario == "baseline" {
                baselines.push((combo.name.clone(), Rates::of(&s)));
            }
            if scenario == "list" {
                lists.push((combo.name.clone(), Rates::of(&s)));
            }
            if matches!(scenario, "baseline" | "list") && !s.curve.is_empty() {
                series.push(Series {
                    label: format!("{} {scenario}", combo.name),
                    points: s.curve.clone(),
                    thin: scenario == "list",
                });
            }
            md.push_str(&sweep_row(combo, &s, rates_of(&baselines, &combo.name)));
        }
    }
    // Baseline and list lines of one server and store share a colour: order them in pairs.
    series.sort_by(|a, b| a.label.split(' ').next().cmp(&b.label.split(' ').next()));
    if !combos.is_empty() {
        chart::draw(
            &chart_path,
            "TaskFlow: p99 latency vs throughput (open loop)",
            &series,
        )?;
    }

    let mut targets = Targets::default();
    mixed(&mut md, &combos);
    flood(&mut md, &combos, &mut targets);
    cost(&mut md, &combos, &mut targets);
    memory(&mut md, &combos, &mut targets);
    let pair = crate::pair::section(&mut md, &run_dir);
    crate::dbshare::section(&mut md, &run_dir);
    let node = crate::node::section(&mut md, &run_dir);
    let criterion = args
        .0
        .get("criterion")
        .map(|dir| criterion(&mut md, Some(Path::new(dir))));
    if !combos.is_empty() || pair.is_some() {
        targets.throughput(&baselines, &lists, pair.as_ref());
    }
    targets.node(&node);
    if let Some(criterion) = &criterion {
        targets.criterion(criterion);
    }
    md.push_str("\n## Targets\n\n| target | figure | verdict |\n|---|---|---|\n");
    for (name, figure, pass) in &targets.0 {
        let verdict = match pass {
            Verdict::Pass => "pass",
            Verdict::Miss => "**miss**",
            Verdict::Reported => "reported",
            Verdict::NotMeasured => "not measured",
        };
        let _ = writeln!(md, "| {name} | {figure} | {verdict} |");
    }
    md.push_str(&read("notes.md"));
    std::fs::write(&out, md).map_err(|e| format!("{}: {e}", out.display()))
}

fn combos(run_dir: &Path) -> Result<Vec<Combo>, String> {
    let order = |name: &str| {
        let store = usize::from(!name.ends_with("-memory"));
        (store, name.to_owned())
    };
    let mut combos: Vec<Combo> = std::fs::read_dir(run_dir)
        .map_err(|e| format!("{}: {e}", run_dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("meta.json").is_file())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let meta = read_json(&e.path().join("meta.json")).ok()?;
            Some(Combo {
                name,
                dir: e.path(),
                meta,
            })
        })
        .collect();
    combos.sort_by_key(|c| order(&c.name));
    Ok(combos)
}

fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

fn names(combo: &Combo) -> (&str, &str) {
    combo.name.split_once('-').unwrap_or((&combo.name, ""))
}

fn sweep_row(combo: &Combo, s: &Sweep, baseline: Rates) -> String {
    let (adapter, store) = names(combo);
    let rate = |x: Option<f64>| x.map_or("–".into(), |x| format!("{x:.0}"));
    let share = |x: Option<f64>| x.map_or("–".into(), percent);
    let ratio = Rates::of(s).ratio(baseline);
    let rates = format!(
        "{} | {} | {} | {}",
        rate(s.saturation),
        rate(s.probe),
        share(ratio.sweep),
        share(ratio.probe)
    );
    let Some(half) = &s.half else {
        return format!("| {adapter} | {store} | {rates} | – | – | – | – | – | – | – | – |\n");
    };
    let load = half.loads.first().cloned().unwrap_or_default();
    format!(
        "| {adapter} | {store} | {rates} | {:.0} | {} | {} | {} | {} | {} | {} | {} |\n",
        load.rps,
        ms(load.p[0]),
        ms(load.p[1]),
        ms(load.p[2]),
        ms(load.p[3]),
        percent(load.error_rate()),
        half.cpu_share(),
        mb(crate::oha::to_f64(s.peak_rss_kb)),
    )
}

fn part_rows(md: &mut String, combo: &Combo, run: &Run) {
    let (adapter, store) = names(combo);
    for load in &run.loads {
        let _ = writeln!(
            md,
            "| {adapter} | {store} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
            load.part,
            load.rps,
            ms(load.p[0]),
            ms(load.p[1]),
            ms(load.p[2]),
            ms(load.p[3]),
            percent(load.error_rate()),
            run.cpu_share(),
            mb(crate::oha::to_f64(run.server.peak_rss_kb)),
        );
    }
}

const PART_HEADER: &str = "| server | store | generator | achieved (req/s) | p50 ms | p90 ms | p99 ms | p99.9 ms | errors | server CPU (cores) | peak RSS MB |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";

fn mixed(md: &mut String, combos: &[Combo]) {
    md.push_str("\n## Mixed 80/20 read/write\n\nThree open-loop `oha` processes at once: `reads` (80% of the total rate; list and get by id, drawn at random), `creates` (10%) and `patches` (10%). The total rate is half of the list's probed capacity on that server and store. It runs on the seeded data (the heavy user's 100k tasks among it) plus its own creates: the `create` sweep, which adds far more, runs after it (see Memory for the count).\n\n");
    md.push_str(PART_HEADER);
    for combo in combos {
        if let Some(run) = combo.fixed("mixed") {
            part_rows(md, combo, &run);
        }
    }
}

/// How a figure compares with its target.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    Pass,
    Miss,
    /// A target that only asks for the figure.
    Reported,
    NotMeasured,
}

impl From<Option<bool>> for Verdict {
    fn from(pass: Option<bool>) -> Self {
        match pass {
            Some(true) => Self::Pass,
            Some(false) => Self::Miss,
            None => Self::NotMeasured,
        }
    }
}

#[derive(Default)]
struct Targets(Vec<(String, String, Verdict)>);

impl Targets {
    fn push(
        &mut self,
        name: impl Into<String>,
        figure: impl Into<String>,
        pass: impl Into<Verdict>,
    ) {
        self.0.push((name.into(), figure.into(), pass.into()));
    }

    /// The throughput targets. The verdicts are the side-by-side rounds' (medians of
    /// closed-loop probes taken seconds apart); the sweeps' figures and their probes', each
    /// server alone, are shown for reference: near capacity a step's p99 passes or fails the
    /// sweep's bound on stalls of tens to hundreds of milliseconds that come and go between
    /// identical steps (see the notes), and the servers run minutes apart.
    fn throughput(
        &mut self,
        baselines: &RatesByCombo,
        lists: &RatesByCombo,
        pair: Option<&crate::pair::Comparison>,
    ) {
        let bare = pair.and_then(|p| p.bare.as_ref());
        for (i, adapter) in ["axum", "warp"].into_iter().enumerate() {
            self.bare(adapter, i, bare);
            let ratio = pair.map(|p| p.of_baseline[i]);
            self.push(
                format!("{adapter}, memory: list of 20 >= 50% of the bare baseline (side by side, median of rounds)"),
                ratio.map_or("–".into(), percent),
                ratio.map(|r| r >= 0.5),
            );
            let name = format!("{adapter}-memory");
            let ratio = rates_of(lists, &name).ratio(rates_of(baselines, &name));
            // The servers' own sweeps, when this run had them.
            for (way, ratio) in ratio.ways().into_iter().filter(|_| !baselines.is_empty()) {
                self.push(
                    format!("{adapter}, memory: list of 20 over the bare baseline ({way}, for reference)"),
                    ratio.map_or("–".into(), percent),
                    Verdict::Reported,
                );
            }
        }
        // The verdict is the side-by-side rounds'; the two servers' own sweeps, minutes apart,
        // are shown next to it for reference only.
        self.push(
            "warp within 10% of axum (list of 20, memory; side by side, median of rounds)",
            pair.map_or("–".into(), |p| {
                format!(
                    "warp {:+.1}% vs axum ({} rounds)",
                    p.list_gap * 100.0,
                    p.rounds
                )
            }),
            pair.map(|p| p.list_gap.abs() <= 0.10),
        );
        self.push(
            "warp within 10% of axum (`/health/live`, memory; side by side, median of rounds)",
            pair.map_or("–".into(), |p| {
                format!(
                    "warp {:+.1}% vs axum ({} rounds)",
                    p.live_gap * 100.0,
                    p.rounds
                )
            }),
            pair.map(|p| p.live_gap.abs() <= 0.10),
        );
        let gap = rates_of(lists, "warp-memory").with(rates_of(lists, "axum-memory"), |w, a| {
            (a > 0.0).then(|| (w - a) / a)
        });
        for (way, gap) in gap.ways().into_iter().filter(|_| !lists.is_empty()) {
            self.push(
                format!("warp against axum, each measured alone minutes apart (list of 20, memory; {way})"),
                gap.map_or("–".into(), |g| format!("warp {:+.1}% vs axum", g * 100.0)),
                Verdict::Reported,
            );
        }
    }

    /// One adapter against bare axum. The verdict is on throughput when bare axum saturated
    /// its core during its probes; otherwise the load generator, not bare axum, set its rate
    /// (on this machine one core of `oha` does not saturate a server that needs ~10 µs a
    /// request), the throughput share flatters TaskFlow, and the verdict is on server CPU per
    /// request instead: the share of bare axum's rate each would reach with its core to itself.
    /// The other figure is shown beside it.
    fn bare(&mut self, adapter: &str, i: usize, bare: Option<&crate::pair::OfBare>) {
        let fig = |x: Option<f64>| x.filter(|x| x.is_finite());
        let saturated = bare.map(|b| b.bare_cores >= crate::pair::SATURATED_CORES);
        for (what, target, share, by_cpu) in [
            (
                "`/health/live`",
                0.8,
                bare.map(|b| b.live[i]),
                bare.map(|b| b.live_by_cpu[i]),
            ),
            (
                "list of 20",
                0.5,
                bare.map(|b| b.list[i]),
                bare.map(|b| b.list_by_cpu[i]),
            ),
        ] {
            let (share, by_cpu) = (fig(share), fig(by_cpu));
            let (judged, figure) = match saturated {
                Some(true) => (
                    share,
                    format!(
                        "{} by throughput (by server CPU per request: {})",
                        share.map_or("–".into(), percent),
                        by_cpu.map_or("–".into(), percent)
                    ),
                ),
                _ => (
                    by_cpu,
                    format!(
                        "{} by server CPU per request (throughput: {}, with bare axum held back by the load generator)",
                        by_cpu.map_or("–".into(), percent),
                        share.map_or("–".into(), percent)
                    ),
                ),
            };
            self.push(
                format!(
                    "{adapter}, memory: {what} >= {:.0}% of bare axum (side by side, median of rounds)",
                    target * 100.0
                ),
                figure,
                judged.map(|s| s >= target),
            );
        }
        if let Some(of_body) = bare.and_then(|b| b.list_by_cpu_of_body) {
            // What the list target leaves for making the response, once sending it is paid.
            self.push(
                format!("{adapter}, memory: list of 20 against bare axum sending the same bytes (for reference)"),
                format!(
                    "{} by server CPU per request: bare axum spends that share of the list's cost just answering its bytes",
                    percent(of_body[i])
                ),
                Verdict::Reported,
            );
        }
        if let Some(b) = bare
            && i == 0
        {
            let limit = if b.bare_cores < crate::pair::SATURATED_CORES {
                "below 0.9: the load generator set its rate, so the verdicts against it are on server CPU per request"
            } else {
                "the server set its rate, so the verdicts against it are on throughput"
            };
            self.push(
                "bare axum's server CPU during its probes (median)",
                format!("{:.2} cores: {limit}", b.bare_cores),
                Verdict::Reported,
            );
        }
    }

    /// TaskFlow against the Node stack: throughput as a multiple of Node's (median of the
    /// rounds' ratios), and a lower p99 where the target asks for it.
    fn node(&mut self, verdicts: &[crate::node::Verdict]) {
        for v in verdicts {
            let p99 = if v.needs_lower_p99 {
                " with a lower p99"
            } else {
                ""
            };
            let lower = v.p99[1] < v.p99[0];
            self.push(
                format!(
                    "MongoDB (SecantusDB-py): {} >= {:.1}x the Node stack's throughput{p99}",
                    v.title, v.target
                ),
                format!(
                    "×{:.2}; p99 {:.1} ms against Node's {:.1} ms; {} errors",
                    v.ratio, v.p99[1], v.p99[0], v.errors
                ),
                (v.ratio.is_finite() && v.p99.iter().all(|p| p.is_finite())).then_some(
                    v.ratio >= v.target && (lower || !v.needs_lower_p99) && v.errors == 0,
                ),
            );
        }
    }

    fn criterion(&mut self, figures: &[(&str, &str, f64, Option<f64>)]) {
        for (id, label, limit_ns, mean) in figures {
            self.push(
                format!("criterion {label} < {}", human_ns(*limit_ns)),
                mean.map_or_else(
                    || format!("`{id}`: –"),
                    |m| format!("`{id}`: {}", human_ns(m)),
                ),
                mean.map(|m| m < *limit_ns),
            );
        }
        // Other users' data must not make one user's page slower (noise allowance: 25%).
        let mean = |id: &str| figures.iter().find(|f| f.0 == id).and_then(|f| f.3);
        let growth = mean("memory_list_other_users/others_1m")
            .zip(mean("memory_list_other_users/others_10k"))
            .map(|(big, small)| big / small);
        self.push(
            "in-memory page does not slow down as other users' tasks grow 10k -> 1M (<= x1.25)",
            growth.map_or("–".into(), |g| format!("x{g:.2}")),
            growth.map(|g| g <= 1.25),
        );
    }
}

fn human_ns(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn flood(md: &mut String, combos: &[Combo], targets: &mut Targets) {
    md.push_str("\n## Login flood isolation\n\n`login`: 20 clients, each logging in to its own account again and again (closed loop, the harness' `load drive`: concurrent logins to one account are refused with 429 by its failed-login backoff), posting `/api/v1/auth/login` with the right password (argon2id at default parameters); at the same time `list`: the authenticated 20-item list at a fixed open-loop rate (a quarter of its probed capacity).\n\n");
    md.push_str(PART_HEADER);
    for combo in combos {
        let Some(run) = combo.fixed("flood") else {
            continue;
        };
        part_rows(md, combo, &run);
        let list = run.load("list");
        let (errors, _) = run.errors();
        let p99 = list.map_or(f64::NAN, |l| l.p[2]);
        targets.push(
            format!(
                "{}: list p99 < 20 ms during a login flood, no errors",
                combo.name
            ),
            format!("p99 {} ms, {errors} errors", ms(p99)),
            list.map(|_| p99 < 20.0 && errors == 0),
        );
    }
}

fn cost(md: &mut String, combos: &[Combo], targets: &mut Targets) {
    md.push_str("\n## Cost growth: page 50 against page 1 (100k tasks of one user)\n\nThe heavy user (100k tasks among the others') lists page 1 and page 50 (its cursor found by walking the pages) one after the other, at the same fixed open-loop rate: half of its own page-1 capacity (a closed-loop probe on one connection), so that neither run overloads the store.\n\n| server | store | rate (req/s) | page 1 p50 ms | page 1 p99 ms | page 50 p50 ms | page 50 p99 ms | p50 ratio | p99 ratio | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for combo in combos {
        let (Some(first), Some(fifty)) = (combo.fixed("page1"), combo.fixed("page50")) else {
            continue;
        };
        let (a, b) = (
            first.loads.first().cloned().unwrap_or_default(),
            fifty.loads.first().cloned().unwrap_or_default(),
        );
        let (r50, r99) = (b.p[0] / a.p[0], b.p[2] / a.p[2]);
        let (adapter, store) = names(combo);
        let errors = first.errors().0 + fifty.errors().0;
        let _ = writeln!(
            md,
            "| {adapter} | {store} | {:.0} | {} | {} | {} | {} | {r50:.2} | {r99:.2} | {errors} |",
            first.server.requested,
            ms(a.p[0]),
            ms(a.p[2]),
            ms(b.p[0]),
            ms(b.p[2]),
        );
        targets.push(
            format!("{}: page 50 / page 1 latency <= 1.5", combo.name),
            format!("p50 ×{r50:.2}, p99 ×{r99:.2}"),
            Some(r50 <= 1.5 && errors == 0),
        );
    }
}

/// The store's task counts and the server's RSS at the mixed profile and after the create
/// sweep (which runs last), from `meta.json`.
struct Store {
    seeded: Option<u64>,
    at_mixed: Option<u64>,
    after_create: Option<u64>,
    rss_after_create_kb: Option<f64>,
}

impl Store {
    fn of(combo: &Combo, mixed: Option<&Run>) -> Self {
        let meta = &combo.meta;
        let seeded = meta["seed"]["tasks"].as_u64();
        // Every write goes to the main user: the store grows by what its count grows, as the
        // server counts it (`GET /api/v1/tasks/stats`); without those counts, by the creates
        // the mixed run's generator saw acknowledged.
        let main = |key: &str| meta[key].as_u64();
        let grown = |key: &str| {
            let (now, then) = (main(key)?, main("main_tasks_seeded")?);
            Some(seeded? + now.saturating_sub(then))
        };
        let acknowledged = mixed
            .and_then(|r| r.load("creates"))
            .zip(seeded)
            .map(|(l, s)| s + l.created);
        Self {
            seeded,
            at_mixed: grown("main_tasks_after_mixed").or(acknowledged),
            after_create: grown("main_tasks_after_create"),
            rss_after_create_kb: combo.kb("rss_after_create_kb"),
        }
    }
}

fn memory(md: &mut String, combos: &[Combo], targets: &mut Targets) {
    md.push_str("\n## Memory\n\nTasks in store: the seeded ones plus what the main user's count (`GET /api/v1/tasks/stats`) grew by since seeding; the mixed profile runs before the `create` sweep. KB per task: RSS after the create sweep over the tasks then in store; per added task: its growth from after seeding over the tasks added since (in-memory store only).\n\n| server | store | idle RSS MB (fresh start) | RSS MB after seeding | tasks seeded | peak RSS MB, mixed profile | tasks in store, mixed | RSS MB after the create sweep | tasks in store after it | KB per task | KB per added task |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for combo in combos {
        let (adapter, store) = names(combo);
        let idle = combo.kb("idle_rss_kb");
        let seeded_kb = combo.kb("seeded_rss_kb");
        let mixed = combo.fixed("mixed");
        let peak = mixed
            .as_ref()
            .map(|r| crate::oha::to_f64(r.server.peak_rss_kb));
        let tasks = Store::of(combo, mixed.as_ref());
        let show = |x: Option<f64>| x.map_or("–".into(), mb);
        let count = |n: Option<u64>| n.map_or("–".into(), |n| n.to_string());
        let to_f = |n: Option<u64>| n.map(crate::oha::to_f64);
        let per_task = tasks
            .rss_after_create_kb
            .zip(to_f(tasks.after_create))
            .filter(|(_, n)| *n > 0.0)
            .map(|(kb, n)| kb / n);
        let per_added = tasks
            .rss_after_create_kb
            .zip(seeded_kb)
            .zip(to_f(tasks.after_create).zip(to_f(tasks.seeded)))
            .filter(|(_, (after, before))| after > before)
            .map(|((kb, kb0), (after, before))| (kb - kb0) / (after - before));
        let kb = |x: Option<f64>| {
            x.filter(|_| combo.is_memory())
                .map_or("–".into(), |x| format!("{x:.2}"))
        };
        let _ = writeln!(
            md,
            "| {adapter} | {store} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            show(idle),
            show(seeded_kb),
            count(tasks.seeded),
            show(peak),
            count(tasks.at_mixed),
            show(tasks.rss_after_create_kb),
            count(tasks.after_create),
            kb(per_task),
            kb(per_added),
        );
        targets.push(
            format!("{}: idle RSS < 30 MB", combo.name),
            format!("{} MB", show(idle)),
            idle.map(|kb| kb < 30.0 * 1024.0),
        );
        if combo.is_memory() {
            targets.push(
                format!(
                    "{}: peak RSS, mixed profile, 100k tasks in memory (reported)",
                    combo.name
                ),
                format!(
                    "{} MB with {} tasks in store",
                    show(peak),
                    count(tasks.at_mixed)
                ),
                peak.map_or(Verdict::NotMeasured, |_| Verdict::Reported),
            );
        }
    }
}

/// Criterion means read from `target/criterion` when the harness ran them (criterion keeps a
/// function id's `/` as `_` in its directory names).
fn criterion(
    md: &mut String,
    dir: Option<&Path>,
) -> Vec<(&'static str, &'static str, f64, Option<f64>)> {
    const IDS: [(&str, &str, f64); 8] = [
        ("jwt_hs256/verify", "JWT verify", 5_000.0),
        ("rate_limit/hot_key_admitted", "rate-limiter check", 1_000.0),
        (
            "memory_list_100k/default_page_1",
            "in-memory list page 1 at 100k tasks",
            20_000.0,
        ),
        (
            "memory_list_100k/default_page_50",
            "in-memory list page 50 at 100k tasks",
            20_000.0,
        ),
        (
            "memory_list_other_users/others_10k",
            "in-memory page, 10k other users' tasks",
            20_000.0,
        ),
        (
            "memory_list_other_users/others_100k",
            "in-memory page, 100k other users' tasks",
            20_000.0,
        ),
        (
            "memory_list_other_users/others_1m",
            "in-memory page, 1M other users' tasks",
            20_000.0,
        ),
        // What a client pays per request: its token, verified once, is remembered.
        (
            "jwt_hs256/verify_remembered",
            "JWT verify, token seen before",
            5_000.0,
        ),
    ];
    let mean = |id: &str| {
        let path = dir.as_ref()?.join(id).join("new").join("estimates.json");
        read_json(&path).ok()?["mean"]["point_estimate"].as_f64()
    };
    let figures: Vec<_> = IDS
        .iter()
        .map(|(id, label, limit)| (*id, *label, *limit, mean(id)))
        .collect();
    md.push_str("\n## Criterion (in-process)\n\n| benchmark | mean |\n|---|---:|\n");
    for (id, _, _, m) in &figures {
        let _ = writeln!(md, "| `{id}` | {} |", m.map_or("not run".into(), human_ns));
    }
    let others: Vec<f64> = figures[4..7].iter().filter_map(|f| f.3).collect();
    if let (Some(first), Some(last)) = (others.first(), others.last()) {
        let _ = writeln!(
            md,
            "\nOne user's first page as other users' tasks grow from 10k to 1M: ×{:.2}.",
            last / first
        );
    }
    figures
}
