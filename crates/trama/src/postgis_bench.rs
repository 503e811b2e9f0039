//! The PostGIS side of the matching benchmark (`trama bench-matching --postgis URL`): the same
//! offers in a table with a GiST index, and the same candidate query (category, within the
//! offer's radius, nearest first) answered by `ST_DWithin` and the `<->` ordering. Used only by
//! the benchmark, to compare the engine's in-memory index with the usual database answer.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, Row};
use std::time::{Duration, Instant};

type Result<T> = anyhow::Result<T>;

/// One offer as the benchmark loads it.
pub struct BenchOffer {
    pub id: i32,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
    pub categories: Vec<String>,
}

/// One candidate query: a need's point and category.
pub struct BenchQuery {
    pub lat: f64,
    pub lon: f64,
    pub category: String,
}

/// Loads the offers into `bench_offers` (dropped first), indexes them, and times each query.
/// Returns (load seconds, per-query latencies, candidates found per query).
pub async fn run(
    url: &str,
    offers: &[BenchOffer],
    queries: &[BenchQuery],
    k: i64,
    max_radius_m: f64,
) -> Result<(f64, Vec<Duration>, Vec<usize>)> {
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
    pool.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        .await?;
    pool.execute("DROP TABLE IF EXISTS bench_offers").await?;
    pool.execute(
        "CREATE TABLE bench_offers (id INT PRIMARY KEY, geom geography(Point, 4326) NOT NULL, \
         radius_m DOUBLE PRECISION NOT NULL, categories TEXT[] NOT NULL)",
    )
    .await?;
    let started = Instant::now();
    for chunk in offers.chunks(5000) {
        let ids: Vec<i32> = chunk.iter().map(|o| o.id).collect();
        let lats: Vec<f64> = chunk.iter().map(|o| o.lat).collect();
        let lons: Vec<f64> = chunk.iter().map(|o| o.lon).collect();
        let radii: Vec<f64> = chunk.iter().map(|o| o.radius_m).collect();
        let cats: Vec<String> = chunk.iter().map(|o| o.categories.join(",")).collect();
        sqlx::query(
            "INSERT INTO bench_offers (id, geom, radius_m, categories) \
             SELECT i, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, r, string_to_array(c, ',') \
             FROM UNNEST($1::int[], $2::float8[], $3::float8[], $4::float8[], $5::text[]) AS t(i, lat, lon, r, c)",
        )
        .bind(&ids)
        .bind(&lats)
        .bind(&lons)
        .bind(&radii)
        .bind(&cats)
        .execute(&pool)
        .await?;
    }
    pool.execute("CREATE INDEX bench_offers_geom ON bench_offers USING GIST (geom)")
        .await?;
    pool.execute("CREATE INDEX bench_offers_cats ON bench_offers USING GIN (categories)")
        .await?;
    pool.execute("ANALYZE bench_offers").await?;
    let load = started.elapsed().as_secs_f64();
    // The candidate query: offers of the category whose own radius reaches the point, nearest
    // first. ST_DWithin with the largest radius lets the GiST index prune; the per-offer radius
    // is checked on what it returns.
    let sql = "SELECT id FROM bench_offers WHERE categories @> ARRAY[$3]::text[] \
               AND ST_DWithin(geom, ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography, $4) \
               AND ST_Distance(geom, ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography) <= radius_m \
               ORDER BY geom <-> ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography LIMIT $5";
    let mut conn = pool.acquire().await?;
    // Warm the plan and the cache.
    for q in queries.iter().take(200) {
        sqlx::query(sql)
            .bind(q.lat)
            .bind(q.lon)
            .bind(&q.category)
            .bind(max_radius_m)
            .bind(k)
            .fetch_all(&mut *conn)
            .await?;
    }
    let mut times = Vec::with_capacity(queries.len());
    let mut found = Vec::with_capacity(queries.len());
    for q in queries {
        let t = Instant::now();
        let rows = sqlx::query(sql)
            .bind(q.lat)
            .bind(q.lon)
            .bind(&q.category)
            .bind(max_radius_m)
            .bind(k)
            .fetch_all(&mut *conn)
            .await?;
        times.push(t.elapsed());
        found.push(
            rows.iter()
                .filter(|r| r.try_get::<i32, _>(0).is_ok())
                .count(),
        );
    }
    Ok((load, times, found))
}
