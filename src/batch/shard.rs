//! Which items a worker renders: a shard, given by hand (`--shard I/N`) or read from the
//! variables a cluster scheduler sets for each worker of an array (`--shard auto`), and a
//! render farm's chunk of the item list (`--items A-B`).
//!
//! Schedulers and their variables:
//! - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX`, 0 to `completions - 1`. Kubernetes does
//!   not tell the pod the count, so it comes as `--shard auto/N` or [`SHARD_COUNT_VAR`].
//! - Slurm job array: `SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_MIN`, `_MAX`, `_STEP` and
//!   `_COUNT`. Ids need not start at 0 (`--array=1-8`) or be contiguous (`--array=3-17:2`):
//!   the shard is the id's position in the array.
//! - AWS Batch array job: `AWS_BATCH_JOB_ARRAY_INDEX`, 0 to size - 1; the size comes as
//!   `--shard auto/N` or [`SHARD_COUNT_VAR`] (set in the job definition's environment).

use super::{Batch, Shard, Variant};

/// The shard count where the scheduler does not give it (Kubernetes, AWS Batch).
pub const SHARD_COUNT_VAR: &str = "STIPPLE_SHARD_COUNT";
pub const KUBERNETES_INDEX: &str = "JOB_COMPLETION_INDEX";
pub const SLURM_ID: &str = "SLURM_ARRAY_TASK_ID";
pub const SLURM_MIN: &str = "SLURM_ARRAY_TASK_MIN";
pub const SLURM_MAX: &str = "SLURM_ARRAY_TASK_MAX";
pub const SLURM_STEP: &str = "SLURM_ARRAY_TASK_STEP";
pub const SLURM_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
pub const AWS_INDEX: &str = "AWS_BATCH_JOB_ARRAY_INDEX";

/// The variables that make `--shard auto` the default when one of them is set.
pub const INDEX_VARS: [(&str, &str); 3] = [
    (KUBERNETES_INDEX, "Kubernetes Indexed Job"),
    (SLURM_ID, "Slurm job array"),
    (AWS_INDEX, "AWS Batch array job"),
];

/// Why the scheduler's variables do not make a shard. The message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShardError(pub String);

/// `--shard`: `I/N` by hand, or `auto` / `auto/N` from the scheduler's variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardArg {
    Fixed(Shard),
    Auto { count: Option<u32> },
}

impl std::str::FromStr for ShardArg {
    type Err = String;
    fn from_str(s: &str) -> Result<ShardArg, String> {
        let t = s.trim();
        if t == "auto" {
            return Ok(ShardArg::Auto { count: None });
        }
        if let Some(n) = t.strip_prefix("auto/") {
            return match n.trim().parse::<u32>() {
                Ok(c) if c > 0 => Ok(ShardArg::Auto { count: Some(c) }),
                _ => Err(format!(
                    "expected auto/N with N the number of shards (at least 1), got {s:?}"
                )),
            };
        }
        t.parse::<Shard>()
            .map(ShardArg::Fixed)
            .map_err(|e| format!("{e}, or auto, or auto/N"))
    }
}

/// A shard and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub shard: Shard,
    /// "Kubernetes Indexed Job: JOB_COMPLETION_INDEX=2", or `None` when given by hand.
    pub source: Option<String>,
}

fn read(env: &dyn Fn(&str) -> Option<String>, var: &str) -> Option<String> {
    env(var).filter(|v| !v.trim().is_empty())
}

fn number(var: &str, value: &str) -> Result<u64, ShardError> {
    value.trim().parse::<u64>().map_err(|_| {
        ShardError(format!(
            "{var}: expected a whole number (0, 1, 2, ...), got {value:?}"
        ))
    })
}

/// The shard a worker renders: `arg` when given as `I/N`; the scheduler's variables when
/// `auto`, or when `--shard` is absent and one of [`INDEX_VARS`] is set; else the whole batch.
pub fn resolve(
    arg: Option<ShardArg>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, ShardError> {
    let count = match arg {
        Some(ShardArg::Fixed(shard)) => {
            return Ok(Resolved {
                shard,
                source: None,
            });
        }
        Some(ShardArg::Auto { count }) => count,
        None => {
            if INDEX_VARS.iter().all(|(v, _)| read(env, v).is_none()) {
                return Ok(Resolved {
                    shard: Shard::ALL,
                    source: None,
                });
            }
            None
        }
    };
    let set: Vec<&(&str, &str)> = INDEX_VARS
        .iter()
        .filter(|(v, _)| read(env, v).is_some())
        .collect();
    match set.as_slice() {
        [] => Err(ShardError(format!(
            "--shard auto: none of {} is set; run under one of those schedulers or pass --shard I/N",
            INDEX_VARS
                .iter()
                .map(|(v, s)| format!("{v} ({s})"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        [(var, scheduler)] => {
            if *var == SLURM_ID {
                slurm(count, env)
            } else {
                zero_based(var, scheduler, count, env)
            }
        }
        _ => Err(ShardError(format!(
            "{} are all set: cannot tell which scheduler started this worker; pass --shard I/N",
            set.iter()
                .map(|(v, _)| *v)
                .collect::<Vec<_>>()
                .join(" and ")
        ))),
    }
}

/// Kubernetes and AWS Batch: a 0-based index, the count from `--shard auto/N` or
/// [`SHARD_COUNT_VAR`].
fn zero_based(
    var: &str,
    scheduler: &str,
    count: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Resolved, ShardError> {
    let value = read(env, var).unwrap_or_default();
    let index = number(var, &value)?;
    let from_env = match read(env, SHARD_COUNT_VAR) {
        Some(c) => match number(SHARD_COUNT_VAR, &c)? {
            0 => {
                return Err(ShardError(format!(
                    "{SHARD_COUNT_VAR}: the number of shards, at least 1, got 0"
                )));
            }
            n => Some(n),
        },
        None => None,
    };
    let (n, given_by) = match (count, from_env) {
        (Some(a), Some(b)) if a as u64 != b => {
            return Err(ShardError(format!(
                "--shard auto/{a} and {SHARD_COUNT_VAR}={b} disagree on the number of shards"
            )));
        }
        (Some(a), _) => (a as u64, format!("--shard auto/{a}")),
        (None, Some(b)) => (b, format!("{SHARD_COUNT_VAR}={b}")),
        (None, None) => {
            let what = if var == KUBERNETES_INDEX {
                "the Job's `completions`"
            } else {
                "the array job's size"
            };
            return Err(ShardError(format!(
                "{var}={value} is set ({scheduler}) but not the number of shards: pass --shard auto/N or set {SHARD_COUNT_VAR}=N, with N {what}"
            )));
        }
    };
    if index >= n {
        return Err(ShardError(format!(
            "{var}={index} is beyond the {n} shards given by {given_by}: expected 0 to {}",
            n - 1
        )));
    }
    Ok(Resolved {
        shard: Shard {
            index: index as u32 + 1,
            count: n as u32,
        },
        source: Some(format!("{scheduler}: {var}={index}")),
    })
}

/// Slurm: the id's position among MIN, MIN + STEP, ..., MAX.
fn slurm(count: Option<u32>, env: &dyn Fn(&str) -> Option<String>) -> Result<Resolved, ShardError> {
    let get = |var: &str| -> Result<Option<u64>, ShardError> {
        read(env, var).map(|v| number(var, &v)).transpose()
    };
    let need = |var: &str| -> Result<u64, ShardError> {
        get(var)?.ok_or_else(|| {
            ShardError(format!(
                "{SLURM_ID} is set but {var} is not: cannot tell how many tasks the array has; pass --shard I/N"
            ))
        })
    };
    let id = need(SLURM_ID)?;
    let min = need(SLURM_MIN)?;
    let max = need(SLURM_MAX)?;
    let step = get(SLURM_STEP)?.unwrap_or(1);
    if step == 0 {
        return Err(ShardError(format!("{SLURM_STEP}: at least 1, got 0")));
    }
    if max < min {
        return Err(ShardError(format!(
            "{SLURM_MAX}={max} is below {SLURM_MIN}={min}"
        )));
    }
    if id < min || id > max {
        return Err(ShardError(format!(
            "{SLURM_ID}={id} is outside the array's {SLURM_MIN}={min} to {SLURM_MAX}={max}"
        )));
    }
    if (id - min) % step != 0 {
        return Err(ShardError(format!(
            "{SLURM_ID}={id} is not one of the array's ids ({min}, {}, ... in steps of {SLURM_STEP}={step})",
            min + step
        )));
    }
    let n = (max - min) / step + 1;
    if let Some(c) = get(SLURM_COUNT)?.filter(|&c| c != n) {
        return Err(ShardError(format!(
            "{SLURM_COUNT}={c}, but ids {min} to {max} in steps of {SLURM_STEP}={step} make {n}: \
             the array's ids are not a regular range (a list such as --array=1,4,9), so some shards \
             would never run and their items would be skipped; submit a range such as --array=0-7 \
             or 1-15:2, or pass --shard I/N"
        )));
    }
    if let Some(c) = count.filter(|&c| c as u64 != n) {
        return Err(ShardError(format!(
            "--shard auto/{c}, but the Slurm array ({SLURM_MIN}={min}, {SLURM_MAX}={max}, \
             {SLURM_STEP}={step}) has {n} tasks"
        )));
    }
    if n > u32::MAX as u64 {
        return Err(ShardError(format!("{SLURM_COUNT}: too many tasks ({n})")));
    }
    Ok(Resolved {
        shard: Shard {
            index: ((id - min) / step) as u32 + 1,
            count: n as u32,
        },
        source: Some(format!("Slurm job array: {SLURM_ID}={id}")),
    })
}

/// `--items A-B`: items A to B of the manifest's list, inclusive, counted from 0 (the index
/// `--list` prints), as a render farm's chunk; `A` alone is one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ItemRange {
    pub first: usize,
    pub last: usize,
}

impl std::str::FromStr for ItemRange {
    type Err = String;
    fn from_str(s: &str) -> Result<ItemRange, String> {
        let err = || {
            format!("expected A-B (items A to B, from 0, as --list numbers them) or A, got {s:?}")
        };
        let (a, b) = match s.split_once('-') {
            Some((a, b)) => (a, b),
            None => (s, s),
        };
        let first: usize = a.trim().parse().map_err(|_| err())?;
        let last: usize = b.trim().parse().map_err(|_| err())?;
        if first > last {
            return Err(format!("{s:?}: the first item comes after the last"));
        }
        Ok(ItemRange { first, last })
    }
}

impl std::fmt::Display for ItemRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl ItemRange {
    pub fn contains(&self, index: usize) -> bool {
        (self.first..=self.last).contains(&index)
    }

    /// An error when the range reaches past the manifest's items.
    pub fn check(&self, total: usize) -> Result<(), String> {
        if self.last >= total {
            return Err(format!(
                "--items {self}: the manifest has {total} items, 0 to {}",
                total.saturating_sub(1)
            ));
        }
        Ok(())
    }
}

/// What one worker renders: a shard, and within it a range of items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    pub shard: Shard,
    pub items: Option<ItemRange>,
}

impl Selection {
    pub const ALL: Selection = Selection {
        shard: Shard::ALL,
        items: None,
    };

    pub fn contains(&self, index: usize) -> bool {
        self.shard.contains(index) && self.items.is_none_or(|r| r.contains(index))
    }

    pub fn is_all(&self) -> bool {
        self.shard.is_all() && self.items.is_none()
    }

    /// File-name suffix of the per-worker summary and contact sheet ("" for the whole batch).
    pub fn suffix(&self) -> String {
        let mut s = self.shard.suffix();
        if let Some(r) = self.items {
            s.push_str(&format!("-items-{}-{}", r.first, r.last));
        }
        s
    }
}

impl std::fmt::Display for Selection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.shard)?;
        if let Some(r) = self.items {
            write!(f, ", items {r}")?;
        }
        Ok(())
    }
}

impl Batch {
    /// The variants in `selection`, in order.
    pub fn select(&self, selection: Selection) -> impl Iterator<Item = &Variant> {
        self.variants
            .iter()
            .filter(move |v| selection.contains(v.index))
    }
}

/// One line of `stipple batch --list --json`: an item and its stable id (the variant's name,
/// which depends only on its labels, never on the shard or the worker).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ListedItem {
    pub index: usize,
    pub id: String,
    pub hash: String,
    pub labels: std::collections::BTreeMap<String, String>,
    /// Why the item's scene is invalid (it will fail when rendered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<&Variant> for ListedItem {
    fn from(v: &Variant) -> Self {
        ListedItem {
            index: v.index,
            id: v.name.clone(),
            hash: v.hash.clone(),
            labels: v.labels.iter().cloned().collect(),
            error: v.scene.as_ref().err().cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    fn auto(n: Option<u32>) -> Option<ShardArg> {
        Some(ShardArg::Auto { count: n })
    }

    fn shard(index: u32, count: u32) -> Shard {
        Shard { index, count }
    }

    #[test]
    fn kubernetes_and_aws_count_from_zero() {
        let r = resolve(auto(Some(4)), &env(&[(KUBERNETES_INDEX, "3")])).unwrap();
        assert_eq!(r.shard, shard(4, 4));
        let r = resolve(None, &env(&[(AWS_INDEX, "0"), (SHARD_COUNT_VAR, "5")])).unwrap();
        assert_eq!(r.shard, shard(1, 5));
        assert!(r.source.unwrap().contains(AWS_INDEX));
    }

    #[test]
    fn slurm_ids_need_not_start_at_zero_or_be_contiguous() {
        let vars = |id: &str| {
            env(&[
                (SLURM_ID, id),
                (SLURM_MIN, "3"),
                (SLURM_MAX, "17"),
                (SLURM_STEP, "2"),
                (SLURM_COUNT, "8"),
            ])
        };
        let shards: Vec<Shard> = (3..=17)
            .step_by(2)
            .map(|id| resolve(None, &vars(&id.to_string())).unwrap().shard)
            .collect();
        assert_eq!(shards, (1..=8).map(|i| shard(i, 8)).collect::<Vec<_>>());
    }

    #[test]
    fn no_scheduler_and_no_flag_is_the_whole_batch() {
        assert_eq!(resolve(None, &env(&[])).unwrap().shard, Shard::ALL);
        let fixed = Some(ShardArg::Fixed(shard(2, 3)));
        assert_eq!(
            resolve(fixed, &env(&[(KUBERNETES_INDEX, "0")]))
                .unwrap()
                .shard,
            shard(2, 3),
            "--shard I/N wins over the scheduler's variables"
        );
    }

    #[test]
    fn inconsistent_values_name_the_variable() {
        type Case<'a> = (Option<ShardArg>, Vec<(&'a str, &'a str)>, &'a str);
        let cases: Vec<Case> = vec![
            (
                auto(Some(3)),
                vec![(KUBERNETES_INDEX, "3")],
                KUBERNETES_INDEX,
            ),
            (None, vec![(KUBERNETES_INDEX, "1")], "--shard auto/N"),
            (auto(None), vec![(AWS_INDEX, "x1")], AWS_INDEX),
            (
                None,
                vec![(AWS_INDEX, "-1"), (SHARD_COUNT_VAR, "4")],
                AWS_INDEX,
            ),
            (
                None,
                vec![(AWS_INDEX, "1"), (SHARD_COUNT_VAR, "0")],
                SHARD_COUNT_VAR,
            ),
            (
                None,
                vec![(AWS_INDEX, "4"), (SHARD_COUNT_VAR, "4")],
                AWS_INDEX,
            ),
            (
                None,
                vec![
                    (SLURM_ID, "4"),
                    (SLURM_MIN, "1"),
                    (SLURM_MAX, "9"),
                    (SLURM_STEP, "2"),
                ],
                SLURM_ID,
            ),
            (
                None,
                vec![
                    (SLURM_ID, "1"),
                    (SLURM_MIN, "1"),
                    (SLURM_MAX, "9"),
                    (SLURM_STEP, "4"),
                    (SLURM_COUNT, "9"),
                ],
                SLURM_COUNT,
            ),
            (
                None,
                vec![(SLURM_ID, "12"), (SLURM_MIN, "1"), (SLURM_MAX, "9")],
                SLURM_ID,
            ),
            (None, vec![(SLURM_ID, "2")], SLURM_MIN),
            (
                None,
                vec![(KUBERNETES_INDEX, "0"), (SLURM_ID, "2")],
                "cannot tell",
            ),
            (auto(None), vec![], KUBERNETES_INDEX),
        ];
        for (arg, vars, needle) in cases {
            let e = resolve(arg, &env(&vars)).unwrap_err().0;
            assert!(e.contains(needle), "{vars:?}: {e}");
        }
    }

    #[test]
    fn arguments_parse() {
        assert_eq!(
            "auto".parse::<ShardArg>(),
            Ok(ShardArg::Auto { count: None })
        );
        assert_eq!(
            "auto/8".parse::<ShardArg>(),
            Ok(ShardArg::Auto { count: Some(8) })
        );
        assert_eq!("2/8".parse::<ShardArg>(), Ok(ShardArg::Fixed(shard(2, 8))));
        assert!("auto/0".parse::<ShardArg>().is_err());
        assert_eq!(
            "4-9".parse::<ItemRange>(),
            Ok(ItemRange { first: 4, last: 9 })
        );
        assert_eq!(
            "7".parse::<ItemRange>(),
            Ok(ItemRange { first: 7, last: 7 })
        );
        assert!("9-4".parse::<ItemRange>().is_err());
        assert!(
            ItemRange {
                first: 20,
                last: 29
            }
            .check(24)
            .is_err()
        );
        let sel = Selection {
            shard: shard(2, 3),
            items: Some(ItemRange { first: 4, last: 9 }),
        };
        let picked: Vec<usize> = (0..24).filter(|&i| sel.contains(i)).collect();
        assert_eq!(picked, [4, 7]);
        assert_eq!(sel.suffix(), "-shard-2-of-3-items-4-9");
    }
}
