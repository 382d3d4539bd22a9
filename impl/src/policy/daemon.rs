//! The load-average daemon: one per workstation, a sans-IO state machine fed by a 5-second
//! timer and by the owner's comings and goings; its only output is LOAD_REPORT to migd.
//!
//! It decides whether its host takes foreign work. Two conditions [SPE "Selecting Idle
//! Hosts"; TH §6.2.1]: nobody has touched the keyboard or mouse for a while (30 s), and the
//! host has on average fewer runnable processes than processors. The load condition uses
//! the thresholds of Sprite's daemon source, with hysteresis: the 1-, 5- and 15-minute
//! averages must all be below 0.75 / 1.0 / 1.5 to start accepting, and accepting stops as
//! soon as one of them exceeds 2.5 / 2.75 / 3.0. Averages are sampled every 5 s; the
//! daemon reports at its first sample, every 60 s after, and at once when the decision
//! changes (the source reports on change as well as periodically). The owner's return is
//! reported at once: "the daemon notifies the central server that its host is no longer
//! available" [TH §7.2.2]. Evicting the foreign processes is the kernel's job (EVICT).

use crate::kernel::{Kernel, Pending, ProcStatus};
use crate::msg::LoadReport;
use serde::{Deserialize, Serialize};
use vocab::HostId;

/// The daemon's thresholds and timers; every field is a parameter (a `[policy]` table in a
/// scenario file overrides any of them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdleRule {
    /// No keyboard or mouse input for this long before the host may accept work.
    pub no_input_ms: u64,
    /// All three averages below these to start accepting.
    pub accept_below: [f64; 3],
    /// Any average above these stops accepting.
    pub refuse_above: [f64; 3],
    /// Sampling period of the run-queue length.
    pub sample_ms: u64,
    /// Longest time between two reports to migd.
    pub report_ms: u64,
}

impl Default for IdleRule {
    fn default() -> Self {
        IdleRule {
            no_input_ms: 30_000,
            accept_below: [0.75, 1.0, 1.5],
            refuse_above: [2.5, 2.75, 3.0],
            sample_ms: 5_000,
            report_ms: 60_000,
        }
    }
}

impl IdleRule {
    /// Rejects a rule the daemon cannot run with (a zero period would fire forever).
    pub fn check(&self) -> Result<(), String> {
        if self.sample_ms == 0 || self.report_ms == 0 {
            return Err("sample_ms and report_ms must be positive".into());
        }
        let finite = |v: &[f64; 3]| v.iter().all(|x| x.is_finite() && *x >= 0.0);
        if !finite(&self.accept_below) || !finite(&self.refuse_above) {
            return Err("load thresholds must be finite and not negative".into());
        }
        Ok(())
    }
}

/// The runnable processes on a kernel, as the daemon samples them. A process in the
/// simulation computes between its calls, so every process present and running counts,
/// except one blocked in `wait` (asleep, in Unix terms) and one frozen or arriving in a
/// migration.
pub fn runnable(k: &Kernel) -> u32 {
    let n = k
        .procs
        .values()
        .filter(|p| p.status == ProcStatus::Running && p.pending != Some(Pending::Wait))
        .count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One host's load daemon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadDaemon {
    pub host: HostId,
    pub rule: IdleRule,
    /// Exponentially weighted run-queue lengths: 1, 5 and 15 minutes.
    pub averages: [f64; 3],
    /// Time of the last input (or of the daemon's start, when there was none since).
    pub last_input_ms: u64,
    pub owner_present: bool,
    /// Hysteresis state: whether the host currently accepts foreign work.
    pub accepting: bool,
    pub next_sample_ms: u64,
    pub last_report_ms: Option<u64>,
}

impl LoadDaemon {
    /// A daemon started at `now` on `host`; its first sample is one period later.
    pub fn new(host: HostId, rule: IdleRule, now: u64, owner_present: bool) -> LoadDaemon {
        LoadDaemon {
            host,
            next_sample_ms: now + rule.sample_ms,
            rule,
            averages: [0.0; 3],
            last_input_ms: now,
            owner_present,
            accepting: false,
            last_report_ms: None,
        }
    }

    /// When the daemon next wants to run.
    pub fn deadline(&self) -> u64 {
        self.next_sample_ms
    }

    /// What the daemon would tell migd now.
    pub fn report(&self, now: u64) -> LoadReport {
        let centi = |x: f64| (x * 100.0).round().clamp(0.0, u32::MAX as f64) as u32;
        LoadReport {
            accepting: self.accepting,
            loads_centi: self.averages.map(centi),
            idle_ms: if self.owner_present {
                0
            } else {
                now.saturating_sub(self.last_input_ms)
            },
        }
    }

    fn sent(&mut self, now: u64) -> Option<LoadReport> {
        self.last_report_ms = Some(now);
        Some(self.report(now))
    }

    /// The owner typed or moved the mouse and stays: the host stops accepting at once and
    /// migd is told.
    pub fn owner_returns(&mut self, now: u64) -> Option<LoadReport> {
        self.owner_present = true;
        self.last_input_ms = now;
        let was = std::mem::replace(&mut self.accepting, false);
        if was {
            self.sent(now)
        } else {
            None
        }
    }

    /// The owner left: the idle clock starts from now. Nothing changes for migd until a
    /// sample finds the host quiet and unloaded.
    pub fn owner_leaves(&mut self, now: u64) {
        self.owner_present = false;
        self.last_input_ms = now;
    }

    /// The 5-second timer: folds one sample into the averages, applies the thresholds,
    /// and returns the report to send, if one is due (first sample, period elapsed, or
    /// the decision changed).
    pub fn sample(&mut self, now: u64, runnable: u32) -> Option<LoadReport> {
        self.next_sample_ms = now + self.rule.sample_ms;
        let period_s = self.rule.sample_ms as f64 / 1000.0;
        for (avg, minutes) in self.averages.iter_mut().zip([1.0f64, 5.0, 15.0]) {
            let w = (-period_s / (60.0 * minutes)).exp();
            *avg = *avg * w + runnable as f64 * (1.0 - w);
        }
        let quiet =
            !self.owner_present && now.saturating_sub(self.last_input_ms) >= self.rule.no_input_ms;
        let low = self
            .averages
            .iter()
            .zip(self.rule.accept_below)
            .all(|(a, t)| *a < t);
        let high = self
            .averages
            .iter()
            .zip(self.rule.refuse_above)
            .any(|(a, t)| *a > t);
        let was = self.accepting;
        if !quiet || high {
            self.accepting = false;
        } else if low {
            self.accepting = true;
        }
        let due = match self.last_report_ms {
            None => true,
            Some(t) => now.saturating_sub(t) >= self.rule.report_ms,
        };
        if due || was != self.accepting {
            self.sent(now)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon() -> LoadDaemon {
        LoadDaemon::new(HostId(1), IdleRule::default(), 0, false)
    }

    /// Runs samples every 5 s from `from` (exclusive) to `to` (inclusive) with `runnable`
    /// processes; returns the reports sent, with their times.
    fn run(d: &mut LoadDaemon, to: u64, runnable: u32) -> Vec<(u64, LoadReport)> {
        let mut out = Vec::new();
        while d.deadline() <= to {
            let t = d.deadline();
            if let Some(r) = d.sample(t, runnable) {
                out.push((t, r));
            }
        }
        out
    }

    #[test]
    fn idle_only_after_30_s_without_input() {
        let mut d = daemon();
        let reports = run(&mut d, 25_000, 0);
        assert_eq!(reports.len(), 1, "the first sample reports");
        assert!(!reports[0].1.accepting, "5 s after start: not quiet yet");
        assert!(!d.accepting);
        let reports = run(&mut d, 30_000, 0);
        assert_eq!(reports.len(), 1, "the change is reported at once");
        assert_eq!(reports[0].0, 30_000);
        assert!(reports[0].1.accepting);
        assert_eq!(reports[0].1.idle_ms, 30_000);
    }

    #[test]
    fn hysteresis_between_the_start_and_stop_thresholds() {
        let mut d = daemon();
        run(&mut d, 60_000, 0);
        assert!(d.accepting);
        // One runnable process for ten minutes: the 1-minute average goes near 1.0, above
        // the 0.75 start threshold, but below the 2.5 stop threshold: still accepting.
        run(&mut d, 660_000, 1);
        assert!(d.averages[0] > 0.75, "{:?}", d.averages);
        assert!(
            d.accepting,
            "between the thresholds the host keeps accepting"
        );
        // Four runnable: the 1-minute average passes 2.5 within a minute or so.
        let reports = run(&mut d, 780_000, 4);
        assert!(!d.accepting);
        let stop = reports
            .iter()
            .find(|(_, r)| !r.accepting)
            .expect("reported");
        assert!(
            stop.1.loads_centi[0] > 250,
            "stopped above 2.5: {:?}",
            stop.1
        );
        // Back to one runnable: the 1-minute average settles near 1.0 again, the load at
        // which the host kept accepting above; having stopped, it does not start again,
        // since 1.0 is not below 0.75 (hysteresis the other way).
        run(&mut d, 1_500_000, 1);
        assert!(!d.accepting, "{:?}", d.averages);
        // Nothing runnable: all three fall below 0.75 / 1.0 / 1.5, and it accepts again.
        let reports = run(&mut d, 4_000_000, 0);
        let start = reports
            .iter()
            .find(|(_, r)| r.accepting)
            .expect("accepts again");
        // (Reported in hundredths, rounded.)
        let [one, five, fifteen] = start.1.loads_centi;
        assert!(one <= 75 && five <= 100 && fifteen <= 150, "{:?}", start.1);
        assert!(d.accepting);
    }

    #[test]
    fn reports_every_60_s_and_on_change() {
        let mut d = daemon();
        let reports = run(&mut d, 300_000, 0);
        let times: Vec<u64> = reports.iter().map(|(t, _)| *t).collect();
        // First sample at 5 s, the change to accepting at 30 s, then every 60 s after it.
        assert_eq!(
            times,
            vec![5_000, 30_000, 90_000, 150_000, 210_000, 270_000]
        );
        // The owner's return is reported at once, not at the next sample.
        let r = d.owner_returns(301_000).expect("reported at once");
        assert!(!r.accepting);
        assert_eq!(r.idle_ms, 0);
        assert_eq!(d.owner_returns(302_000), None, "no change, no report");
        // While the owner stays, the host never becomes idle.
        let reports = run(&mut d, 600_000, 0);
        assert!(reports.iter().all(|(_, r)| !r.accepting));
        d.owner_leaves(600_000);
        let reports = run(&mut d, 640_000, 0);
        let back = reports
            .iter()
            .find(|(_, r)| r.accepting)
            .expect("idle again");
        assert_eq!(back.0, 630_000, "30 s after the owner left");
    }

    #[test]
    fn bad_rules_are_rejected() {
        let mut r = IdleRule::default();
        assert!(r.check().is_ok());
        r.sample_ms = 0;
        assert!(r.check().is_err());
        let r = IdleRule {
            accept_below: [f64::NAN, 1.0, 1.5],
            ..IdleRule::default()
        };
        assert!(r.check().is_err());
    }
}
