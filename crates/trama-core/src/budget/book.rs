//! Care budgets, the book of account: every euro a beneficiary can use, held, spent or
//! released, as double-entry postings in integer cents.
//!
//! An allocation (a programme's grant to one person, with its decision reference) opens with a
//! grant: the funder's account gives, the allocation's *available* account receives. Booking a
//! service *holds* the amount (available → held); the provider's delivery turns the hold into a
//! *spend* (held → spent); cancelling *releases* what is still held (held → available). Every
//! transaction's postings sum to zero, and the book refuses any transaction that would take an
//! account below zero, so a budget can never be overspent whatever order requests arrive in.
//! The store writes exactly the transactions this module builds ([`Transaction::grant`],
//! [`Transaction::hold`], [`Transaction::spend`], [`Transaction::release`]: balanced, amounts
//! above zero) and applies the no-overdraft rule of [`Book`] as conditional updates inside a
//! database transaction; [`Book`] is the same rule in memory, with no I/O, which the tests hold
//! the store to.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::ids::{AllocationId, BookingId};
use crate::money::Cents;

/// Where money sits. Each allocation has its own accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "allocation", rename_all = "snake_case")]
pub enum Account {
    /// The funder's side of a grant: negative by what it granted.
    Funder(AllocationId),
    /// Granted and not yet committed: what can still be booked.
    Available(AllocationId),
    /// Committed to bookings not yet delivered.
    Held(AllocationId),
    /// Paid for delivered services.
    Spent(AllocationId),
}

/// One leg of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub account: Account,
    pub amount: Cents,
}

/// What a transaction does, in the words of the people who use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Movement {
    Grant,
    Hold,
    Spend,
    Release,
}

/// A balanced set of postings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub movement: Movement,
    pub allocation: AllocationId,
    pub booking: Option<BookingId>,
    pub postings: Vec<Posting>,
}

impl Account {
    /// The account's kind as the store keeps it (`budget_postings.account`).
    pub fn kind(self) -> &'static str {
        match self {
            Account::Funder(_) => "funder",
            Account::Available(_) => "available",
            Account::Held(_) => "held",
            Account::Spent(_) => "spent",
        }
    }
}

impl Movement {
    /// The movement's name as the store keeps it (`budget_postings.movement`).
    pub fn name(self) -> &'static str {
        match self {
            Movement::Grant => "grant",
            Movement::Hold => "hold",
            Movement::Spend => "spend",
            Movement::Release => "release",
        }
    }
}

impl Transaction {
    /// A grant opens an allocation: the funder's account gives, *available* receives.
    pub fn grant(a: AllocationId, amount: Cents) -> Result<Self, BudgetError> {
        positive(amount)?;
        Ok(Self::transfer(
            Movement::Grant,
            a,
            None,
            Account::Funder(a),
            Account::Available(a),
            amount,
        ))
    }

    /// A booking holds `amount`: *available* → *held*.
    pub fn hold(a: AllocationId, booking: BookingId, amount: Cents) -> Result<Self, BudgetError> {
        positive(amount)?;
        Ok(Self::transfer(
            Movement::Hold,
            a,
            Some(booking),
            Account::Available(a),
            Account::Held(a),
            amount,
        ))
    }

    /// A delivery spends `amount` of a hold: *held* → *spent*.
    pub fn spend(a: AllocationId, booking: BookingId, amount: Cents) -> Result<Self, BudgetError> {
        positive(amount)?;
        Ok(Self::transfer(
            Movement::Spend,
            a,
            Some(booking),
            Account::Held(a),
            Account::Spent(a),
            amount,
        ))
    }

    /// A cancellation releases `amount` of a hold: *held* → *available*.
    pub fn release(
        a: AllocationId,
        booking: BookingId,
        amount: Cents,
    ) -> Result<Self, BudgetError> {
        positive(amount)?;
        Ok(Self::transfer(
            Movement::Release,
            a,
            Some(booking),
            Account::Held(a),
            Account::Available(a),
            amount,
        ))
    }

    fn transfer(
        movement: Movement,
        allocation: AllocationId,
        booking: Option<BookingId>,
        from: Account,
        to: Account,
        amount: Cents,
    ) -> Self {
        Self {
            movement,
            allocation,
            booking,
            postings: vec![
                Posting {
                    account: from,
                    amount: Cents(-amount.0),
                },
                Posting {
                    account: to,
                    amount,
                },
            ],
        }
    }

    /// The sum of the postings: zero for every transaction this module makes.
    pub fn sum(&self) -> Cents {
        Cents(self.postings.iter().map(|p| p.amount.0).sum())
    }
}

/// Why the book refused a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error("amount: {0} is not a positive amount")]
    NotPositive(Cents),
    #[error("amount: {0} is more than one transaction moves")]
    TooLarge(Cents),
    #[error("allocation {0} is not in the book")]
    UnknownAllocation(AllocationId),
    #[error("allocation {0} is already granted")]
    AlreadyGranted(AllocationId),
    #[error("booking {0} is not in the book")]
    UnknownBooking(BookingId),
    #[error("booking {0} already exists")]
    DuplicateBooking(BookingId),
    #[error("only {available} is available, {asked} asked")]
    Insufficient { available: Cents, asked: Cents },
    #[error("booking {booking} holds {held}, {asked} asked")]
    BeyondHold {
        booking: BookingId,
        held: Cents,
        asked: Cents,
    },
}

/// A booking's money: what it still holds and what was spent on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingMoney {
    pub allocation: AllocationId,
    pub held: Cents,
    pub spent: Cents,
    pub released: Cents,
}

/// Balances of one allocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationBalance {
    pub granted: Cents,
    pub available: Cents,
    pub held: Cents,
    pub spent: Cents,
}

/// The book: balances and bookings, changed only through transactions that balance.
#[derive(Debug, Clone, Default)]
pub struct Book {
    balances: HashMap<Account, i64>,
    bookings: HashMap<BookingId, BookingMoney>,
    journal: Vec<Transaction>,
}

/// The most one transaction moves: ten billion euros, beyond any care budget, far from an
/// overflow of the sums the store keeps.
pub const MAX_MOVED: Cents = Cents(1_000_000_000_000);

/// The rule of every amount the book moves: more than zero, at most [`MAX_MOVED`]. Every
/// transaction is checked with it; the store checks an amount with it before it touches a
/// row.
pub fn check_amount(amount: Cents) -> Result<(), BudgetError> {
    if amount.0 <= 0 {
        return Err(BudgetError::NotPositive(amount));
    }
    if amount > MAX_MOVED {
        return Err(BudgetError::TooLarge(amount));
    }
    Ok(())
}

/// An amount a client gave, in cents, under [`check_amount`]'s rule, as a field error.
pub fn amount(field: &str, cents: i64) -> Result<Cents, crate::FieldError> {
    check_amount(Cents(cents)).map_err(|e| {
        crate::FieldError::new(
            field,
            match e {
                BudgetError::TooLarge(_) => "must be at most 10,000,000,000.00 (in cents)",
                _ => "must be more than zero (cents)",
            },
        )
    })?;
    Ok(Cents(cents))
}

fn positive(amount: Cents) -> Result<(), BudgetError> {
    check_amount(amount)
}

impl Book {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every transaction applied, in order.
    pub fn journal(&self) -> &[Transaction] {
        &self.journal
    }

    pub fn balance(&self, account: Account) -> Cents {
        Cents(self.balances.get(&account).copied().unwrap_or(0))
    }

    pub fn allocation(&self, a: AllocationId) -> Option<AllocationBalance> {
        self.balances.get(&Account::Funder(a))?;
        Some(AllocationBalance {
            granted: Cents(-self.balance(Account::Funder(a)).0),
            available: self.balance(Account::Available(a)),
            held: self.balance(Account::Held(a)),
            spent: self.balance(Account::Spent(a)),
        })
    }

    pub fn booking(&self, b: BookingId) -> Option<BookingMoney> {
        self.bookings.get(&b).copied()
    }

    fn apply(&mut self, tx: Transaction) -> Transaction {
        debug_assert_eq!(tx.sum(), Cents(0));
        for p in &tx.postings {
            *self.balances.entry(p.account).or_insert(0) += p.amount.0;
        }
        self.journal.push(tx.clone());
        tx
    }

    /// Opens an allocation with its granted amount.
    pub fn grant(&mut self, a: AllocationId, amount: Cents) -> Result<Transaction, BudgetError> {
        positive(amount)?;
        if self.balances.contains_key(&Account::Funder(a)) {
            return Err(BudgetError::AlreadyGranted(a));
        }
        let t = Transaction::grant(a, amount)?;
        Ok(self.apply(t))
    }

    /// Holds `amount` of the allocation for a new booking; refused beyond what is available.
    pub fn hold(
        &mut self,
        a: AllocationId,
        booking: BookingId,
        amount: Cents,
    ) -> Result<Transaction, BudgetError> {
        positive(amount)?;
        if !self.balances.contains_key(&Account::Funder(a)) {
            return Err(BudgetError::UnknownAllocation(a));
        }
        if self.bookings.contains_key(&booking) {
            return Err(BudgetError::DuplicateBooking(booking));
        }
        let available = self.balance(Account::Available(a));
        if available < amount {
            return Err(BudgetError::Insufficient {
                available,
                asked: amount,
            });
        }
        self.bookings.insert(
            booking,
            BookingMoney {
                allocation: a,
                held: amount,
                spent: Cents(0),
                released: Cents(0),
            },
        );
        let t = Transaction::hold(a, booking, amount)?;
        Ok(self.apply(t))
    }

    fn take_from_hold(
        &mut self,
        booking: BookingId,
        amount: Cents,
        movement: Movement,
    ) -> Result<Transaction, BudgetError> {
        positive(amount)?;
        let m = self
            .bookings
            .get_mut(&booking)
            .ok_or(BudgetError::UnknownBooking(booking))?;
        if m.held < amount {
            return Err(BudgetError::BeyondHold {
                booking,
                held: m.held,
                asked: amount,
            });
        }
        let a = m.allocation;
        let t = match movement {
            Movement::Spend => Transaction::spend(a, booking, amount)?,
            _ => Transaction::release(a, booking, amount)?,
        };
        m.held = Cents(m.held.0 - amount.0);
        match movement {
            Movement::Spend => m.spent = Cents(m.spent.0 + amount.0),
            _ => m.released = Cents(m.released.0 + amount.0),
        }
        Ok(self.apply(t))
    }

    /// The provider delivered: `amount` of the hold becomes a spend. A delivery billed beyond
    /// what the booking still holds is refused (and is what the expenditure control flags).
    pub fn spend(&mut self, booking: BookingId, amount: Cents) -> Result<Transaction, BudgetError> {
        self.take_from_hold(booking, amount, Movement::Spend)
    }

    /// Cancelling: whatever the booking still holds goes back to the allocation.
    pub fn release(&mut self, booking: BookingId) -> Result<Option<Transaction>, BudgetError> {
        let held = self
            .bookings
            .get(&booking)
            .ok_or(BudgetError::UnknownBooking(booking))?
            .held;
        if held.0 == 0 {
            return Ok(None);
        }
        self.take_from_hold(booking, held, Movement::Release)
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_booking_is_held_spent_and_the_rest_released() {
        let mut book = Book::new();
        let a = AllocationId::new();
        let b = BookingId::new();
        book.grant(a, Cents(100_000)).unwrap();
        book.hold(a, b, Cents(30_000)).unwrap();
        book.spend(b, Cents(20_000)).unwrap();
        assert_eq!(
            book.spend(b, Cents(20_000)),
            Err(BudgetError::BeyondHold {
                booking: b,
                held: Cents(10_000),
                asked: Cents(20_000)
            })
        );
        book.release(b).unwrap();
        assert_eq!(
            book.allocation(a).unwrap(),
            AllocationBalance {
                granted: Cents(100_000),
                available: Cents(80_000),
                held: Cents(0),
                spent: Cents(20_000)
            }
        );
        assert_eq!(book.release(b), Ok(None));
        assert!(matches!(
            book.hold(a, BookingId::new(), Cents(80_001)),
            Err(BudgetError::Insufficient { .. })
        ));
        assert!(matches!(
            book.hold(a, b, Cents(1)),
            Err(BudgetError::DuplicateBooking(_))
        ));
        assert_eq!(
            book.hold(a, BookingId::new(), Cents(0)),
            Err(BudgetError::NotPositive(Cents(0)))
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Grant(usize, i64),
        Hold(usize, i64),
        Spend(usize, i64),
        Release(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..3usize, -5i64..50_000).prop_map(|(a, x)| Op::Grant(a, x)),
            (0..3usize, -5i64..40_000).prop_map(|(a, x)| Op::Hold(a, x)),
            (0..12usize, -5i64..40_000).prop_map(|(b, x)| Op::Spend(b, x)),
            (0..12usize).prop_map(Op::Release),
        ]
    }

    proptest! {
        // Whatever the sequence of requests: every transaction sums to zero, no account of an
        // allocation goes below zero, and granted = available + held + spent, always.
        #[test]
        fn postings_balance_and_nothing_is_overspent(ops in proptest::collection::vec(op(), 1..80)) {
            let allocations: Vec<_> = (0..3).map(|_| AllocationId::new()).collect();
            let mut bookings: Vec<BookingId> = Vec::new();
            let mut book = Book::new();
            for op in ops {
                let _ = match op {
                    Op::Grant(a, x) => book.grant(allocations[a], Cents(x)).map(|_| ()),
                    Op::Hold(a, x) => {
                        let b = BookingId::new();
                        let r = book.hold(allocations[a], b, Cents(x)).map(|_| ());
                        if r.is_ok() { bookings.push(b); }
                        r
                    }
                    Op::Spend(b, x) => match bookings.get(b) {
                        Some(&b) => book.spend(b, Cents(x)).map(|_| ()),
                        None => Ok(()),
                    },
                    Op::Release(b) => match bookings.get(b) {
                        Some(&b) => book.release(b).map(|_| ()),
                        None => Ok(()),
                    },
                };
                let mut total = 0i64;
                for tx in book.journal() {
                    prop_assert_eq!(tx.sum(), Cents(0));
                    total += tx.sum().0;
                }
                prop_assert_eq!(total, 0);
                for &a in &allocations {
                    if let Some(bal) = book.allocation(a) {
                        prop_assert!(bal.available.0 >= 0 && bal.held.0 >= 0 && bal.spent.0 >= 0);
                        prop_assert_eq!(bal.granted.0, bal.available.0 + bal.held.0 + bal.spent.0);
                        let held: i64 = bookings.iter().filter_map(|&b| book.booking(b))
                            .filter(|m| m.allocation == a).map(|m| m.held.0).sum();
                        prop_assert_eq!(held, bal.held.0);
                    }
                }
            }
        }
    }
}
