//! Entry point of the wasm binary: mount the app on `<body>`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(xieshang_client::App);
}
