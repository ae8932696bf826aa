//! Text rules several layers share: the one analyzer for indexing, querying
//! and marking (`analysis`), control characters made visible or spaces
//! (`clean`), and slugs and a stable hash (`names`).

pub(crate) mod analysis;
pub(crate) mod clean;
pub(crate) mod names;
