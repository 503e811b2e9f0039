//! A sliding-window counter per key (a client address, an account), in this process's memory.
//! Several server processes each keep their own window: the limit then holds per process, which
//! is documented in docs/API.md.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    max: u32,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    fn prune(q: &mut VecDeque<Instant>, now: Instant, window: Duration) {
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
    }

    /// Counts one attempt; `Err(seconds)` when the key is over its limit (the attempt is not counted).
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        self.check(key)?;
        let mut map = self.hits.lock().expect("rate limiter lock");
        map.entry(key.to_string())
            .or_default()
            .push_back(Instant::now());
        Ok(())
    }

    /// Whether the key may try now, without counting.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.hits.lock().expect("rate limiter lock");
        if map.len() > 100_000 {
            // Bound memory: drop keys whose window has passed.
            map.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        let Some(q) = map.get_mut(key) else {
            return Ok(());
        };
        Self::prune(q, now, self.window);
        if q.len() as u32 >= self.max {
            let oldest = *q.front().expect("non-empty");
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        Ok(())
    }

    /// Forgets a key (after a successful login).
    pub fn clear(&self, key: &str) {
        self.hits.lock().expect("rate limiter lock").remove(key);
    }
}

/// Failed sign-ins, answered with delays that grow with each failure instead of a lock: the
/// rightful owner is slowed for a moment at worst, never shut out for a quarter of an hour by
/// someone who knows their e-mail. Failures are forgotten after `forget` without any.
pub struct LoginThrottle {
    /// Failures allowed before the first delay.
    free: u32,
    /// The longest delay.
    cap: Duration,
    forget: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    pub fn new(free: u32, cap: Duration, forget: Duration) -> Self {
        Self {
            free,
            cap,
            forget,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The delay after `n` failures: none up to `free`, then 1 s doubling up to `cap`.
    pub fn delay_after(&self, n: u32) -> Duration {
        if n < self.free {
            return Duration::ZERO;
        }
        let doublings = (n - self.free).min(20);
        Duration::from_secs(1u64 << doublings).min(self.cap)
    }

    /// `Err(seconds)` while the key must still wait after its last failure.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("login throttle lock");
        if map.len() > 100_000 {
            let forget = self.forget;
            map.retain(|_, (_, at)| now.duration_since(*at) < forget);
        }
        let Some((n, at)) = map.get(key).copied() else {
            return Ok(());
        };
        let since = now.duration_since(at);
        if since >= self.forget {
            map.remove(key);
            return Ok(());
        }
        let wait = self.delay_after(n).saturating_sub(since);
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait.as_secs().max(1))
        }
    }

    /// Counts a failure.
    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("login throttle lock");
        let e = map.entry(key.to_string()).or_insert((0, now));
        if now.duration_since(e.1) >= self.forget {
            e.0 = 0;
        }
        e.0 = e.0.saturating_add(1);
        e.1 = now;
    }

    /// Forgets a key (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .expect("login throttle lock")
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_bounded() {
        let t = LoginThrottle::new(5, Duration::from_secs(30), Duration::from_secs(900));
        let d: Vec<u64> = (0..12).map(|n| t.delay_after(n).as_secs()).collect();
        assert_eq!(d, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 30, 30]);
        for _ in 0..5 {
            assert!(t.check("a").is_ok());
            t.fail("a");
        }
        let wait = t.check("a").unwrap_err();
        assert_eq!(wait, 1);
        assert!(t.check("b").is_ok(), "other keys are not affected");
        t.clear("a");
        assert!(t.check("a").is_ok());
    }

    #[test]
    fn limits_per_key() {
        let r = RateLimiter::new(2, Duration::from_secs(60));
        assert!(r.hit("a").is_ok());
        assert!(r.hit("a").is_ok());
        let wait = r.hit("a").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(r.hit("b").is_ok(), "other keys are not affected");
        r.clear("a");
        assert!(r.hit("a").is_ok());
    }

    #[test]
    fn the_window_slides() {
        let r = RateLimiter::new(1, Duration::from_millis(1));
        assert!(r.hit("a").is_ok());
        std::thread::sleep(Duration::from_millis(5));
        assert!(r.hit("a").is_ok());
    }
}
