//! A small builder for dynamic SQL with `$N` placeholders, which both databases understand
//! (sqlx's own QueryBuilder writes `?` for the Any driver, which PostgreSQL refuses).

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub enum Val {
    Text(String),
    I64(i64),
    F64(f64),
}

#[derive(Debug, Default)]
pub struct Sql {
    text: String,
    binds: Vec<Val>,
}

impl Sql {
    pub fn new(s: &str) -> Self {
        Self {
            text: s.to_string(),
            binds: Vec::new(),
        }
    }

    /// Appends trusted SQL text (never user input).
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder bound to `v`.
    pub fn bind(&mut self, v: Val) -> &mut Self {
        self.binds.push(v);
        self.text.push('$');
        self.text.push_str(&self.binds.len().to_string());
        self
    }

    pub fn bind_text(&mut self, s: impl Into<String>) -> &mut Self {
        self.bind(Val::Text(s.into()))
    }

    /// Appends `(p1, p2, ...)` bound to the strings.
    pub fn bind_list<I: IntoIterator<Item = String>>(&mut self, items: I) -> &mut Self {
        self.push("(");
        for (i, s) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind_text(s);
        }
        self.push(")")
    }

    pub fn build(&self) -> Query<'_, Any, AnyArguments> {
        let mut q = sqlx::query(AssertSqlSafe(self.text.clone()));
        for b in &self.binds {
            q = match b {
                Val::Text(s) => q.bind(s.clone()),
                Val::I64(v) => q.bind(*v),
                Val::F64(v) => q.bind(*v),
            };
        }
        q
    }
}

/// Reading a query's rows as the store's types: each row goes through the function that
/// reads that type (a corrupt row is an error, never a panic or a default).
pub(crate) trait ReadRows {
    /// Every row.
    async fn rows<T>(
        self,
        pool: &sqlx::AnyPool,
        read: impl Fn(&sqlx::any::AnyRow) -> crate::Result<T>,
    ) -> crate::Result<Vec<T>>;

    /// The one row, if there is one.
    async fn one<T>(
        self,
        pool: &sqlx::AnyPool,
        read: impl Fn(&sqlx::any::AnyRow) -> crate::Result<T>,
    ) -> crate::Result<Option<T>>;
}

impl<'q> ReadRows for Query<'q, Any, AnyArguments> {
    async fn rows<T>(
        self,
        pool: &sqlx::AnyPool,
        read: impl Fn(&sqlx::any::AnyRow) -> crate::Result<T>,
    ) -> crate::Result<Vec<T>> {
        self.fetch_all(pool).await?.iter().map(read).collect()
    }

    async fn one<T>(
        self,
        pool: &sqlx::AnyPool,
        read: impl Fn(&sqlx::any::AnyRow) -> crate::Result<T>,
    ) -> crate::Result<Option<T>> {
        self.fetch_optional(pool)
            .await?
            .as_ref()
            .map(read)
            .transpose()
    }
}
