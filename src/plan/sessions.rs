//! Treatment sessions: the brief's 2-4 visits, 10-30 days apart. Session 1 lays a light,
//! sparse base; later ones fill the gaps and adjust the shade.

use super::PlanError;

/// One session of a plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Session {
    /// Share of all the plan's impressions placed in this session.
    pub share: f32,
    /// Multiplies the zone's shade for this session's dots (session 1 is often lighter).
    pub shade_scale: f32,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            share: 1.0,
            shade_scale: 1.0,
        }
    }
}

pub const MAX_SESSIONS: usize = 4;

pub fn validate(sessions: &[Session]) -> Result<(), PlanError> {
    if sessions.is_empty() || sessions.len() > MAX_SESSIONS {
        return Err(PlanError::Sessions(format!(
            "a plan has 1 to {MAX_SESSIONS} sessions, got {}",
            sessions.len()
        )));
    }
    for (i, s) in sessions.iter().enumerate() {
        if !(s.share.is_finite() && s.share > 0.0 && s.share <= 1.0) {
            return Err(PlanError::Sessions(format!(
                "session {}: share {} is outside (0, 1]",
                i + 1,
                s.share
            )));
        }
        if !(s.shade_scale.is_finite() && s.shade_scale > 0.0 && s.shade_scale <= 2.0) {
            return Err(PlanError::Sessions(format!(
                "session {}: shade_scale {} is outside (0, 2]",
                i + 1,
                s.shade_scale
            )));
        }
    }
    let total: f32 = sessions.iter().map(|s| s.share).sum();
    if (total - 1.0).abs() > 0.005 {
        return Err(PlanError::Sessions(format!(
            "the sessions' shares add up to {total:.3}; they must add up to 1 (every \
             impression belongs to one session)"
        )));
    }
    Ok(())
}

/// The session (from 1) of the dot at `index` in acceptance order, of `total` dots: each
/// session takes the next contiguous run, so later sessions fill the earlier ones' gaps.
pub fn session_of(sessions: &[Session], index: usize, total: usize) -> u8 {
    let mut end = 0.0f64;
    for (i, s) in sessions.iter().enumerate() {
        end += s.share as f64;
        if (index as f64) < (end * total as f64).round() {
            return i as u8 + 1;
        }
    }
    sessions.len() as u8
}

/// Dots placed in each session (index from 1) out of `total`.
pub fn session_counts(sessions: &[Session], total: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(sessions.len());
    let (mut end, mut start) = (0.0f64, 0usize);
    for (i, s) in sessions.iter().enumerate() {
        end += s.share as f64;
        let stop = if i + 1 == sessions.len() {
            total
        } else {
            ((end * total as f64).round() as usize).min(total)
        };
        out.push(stop - start);
        start = stop;
    }
    out
}
