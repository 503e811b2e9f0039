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

#[cfg(test)]
mod tests {
    use super::*;

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
