//! The per-file time budget (`--file-timeout`): a pass over one file runs [`within`] its
//! budget, the analysis counts its steps ([`step`]: one per call offered to the codemods,
//! one per scope the project summary looks at),
//! and every [`CHECK_EVERY`] steps the clock is read; past the deadline the file's work
//! stops there (it unwinds to [`within`], or to [`stopped`] around the fix rounds, which keep
//! the findings already made). Nothing of a stopped file is written: its fixes are never
//! made. A parse is not interrupted, so a file may overrun its budget by one parse.
//!
//! The deadline is the current thread's: a pass over one file runs on one thread (nothing in
//! it is parallel), and a pass nested in another (none today) keeps the earlier deadline.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::{Duration, Instant};

/// How many steps pass between two reads of the clock.
pub const CHECK_EVERY: u32 = 1024;

/// Why a file's work stopped: its budget was spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded;

#[derive(Clone, Copy)]
struct Deadline {
    at: Instant,
    steps: u32,
}

thread_local! {
    static DEADLINE: Cell<Option<Deadline>> = const { Cell::new(None) };
}

/// Run `work` (one pass over one file) within `budget` (`None`: no budget). `Err`: the
/// budget was spent before `work` finished. A panic other than the budget's goes on
/// unwinding.
pub fn within<T>(budget: Option<Duration>, work: impl FnOnce() -> T) -> Result<T, Exceeded> {
    let Some(budget) = budget else {
        return Ok(work());
    };
    let earlier = DEADLINE.get();
    if earlier.is_none() {
        DEADLINE.set(Some(Deadline {
            at: Instant::now() + budget,
            steps: 0,
        }));
    }
    let result = catch_unwind(AssertUnwindSafe(work));
    DEADLINE.set(earlier);
    caught(result)
}

fn caught<T>(result: std::thread::Result<T>) -> Result<T, Exceeded> {
    match result {
        Ok(value) => Ok(value),
        Err(payload) if payload.is::<Exceeded>() => Err(Exceeded),
        Err(payload) => resume_unwind(payload),
    }
}

/// Run `work` under the deadline already set (by [`within`]), catching the stop: the caller
/// keeps what it made before `work` (the fix rounds keep the findings).
pub fn stopped<T>(work: impl FnOnce() -> T) -> Result<T, Exceeded> {
    if DEADLINE.get().is_none() {
        return Ok(work());
    }
    caught(catch_unwind(AssertUnwindSafe(work)))
}

/// One step of a file's work: every [`CHECK_EVERY`] steps, past the deadline, the work stops
/// (it unwinds, without the panic message, to [`within`] or [`stopped`]).
pub fn step() {
    let Some(mut deadline) = DEADLINE.get() else {
        return;
    };
    deadline.steps += 1;
    if deadline.steps.is_multiple_of(CHECK_EVERY) && Instant::now() >= deadline.at {
        resume_unwind(Box::new(Exceeded));
    }
    DEADLINE.set(Some(deadline));
}

/// The budget as the user gave it, for a message: `0.5 s`, `2 s`.
pub fn shown(budget: Duration) -> String {
    format!("{} s", budget.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_steps_never_read_the_clock() {
        let done = within(Some(Duration::ZERO), || {
            for _ in 0..CHECK_EVERY - 1 {
                step();
            }
            7
        });
        assert_eq!(done, Ok(7));
    }

    #[test]
    fn a_spent_budget_stops_the_work_at_the_next_check() {
        let steps = Cell::new(0);
        let done = within(Some(Duration::ZERO), || {
            loop {
                steps.set(steps.get() + 1);
                step();
            }
        });
        assert_eq!(done, Err::<(), _>(Exceeded));
        assert_eq!(steps.get(), CHECK_EVERY);
        // The deadline is gone with the pass.
        for _ in 0..2 * CHECK_EVERY {
            step();
        }
    }

    #[test]
    fn the_rounds_keep_what_came_before() {
        let done = within(Some(Duration::ZERO), || {
            let rounds = stopped(|| {
                loop {
                    step();
                }
            });
            ("findings", rounds)
        });
        assert_eq!(done, Ok(("findings", Err::<(), _>(Exceeded))));
    }

    #[test]
    fn no_budget_no_stop() {
        let done = within(None, || {
            for _ in 0..4 * CHECK_EVERY {
                step();
            }
            1
        });
        assert_eq!(done, Ok(1));
    }

    #[test]
    fn other_panics_go_on() {
        let caught = std::panic::catch_unwind(|| within(Some(Duration::ZERO), || panic!("x")));
        assert!(caught.is_err());
    }
}
