//! TEMPORARY stub until the assets module lands.
pub fn router(_static_dir: Option<std::path::PathBuf>) -> axum::Router<crate::AppState> {
    axum::Router::new()
}
