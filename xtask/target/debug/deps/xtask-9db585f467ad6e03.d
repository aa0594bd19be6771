/work/main/xtask/target/debug/deps/xtask-9db585f467ad6e03.d: src/main.rs src/bench/mod.rs src/bench/peers.rs src/bench/report.rs src/client.rs src/e2e.rs src/fuzz.rs src/patches.rs src/postgres.rs src/sh.rs src/test.rs src/tools.rs src/wasm_test.rs

/work/main/xtask/target/debug/deps/xtask-9db585f467ad6e03: src/main.rs src/bench/mod.rs src/bench/peers.rs src/bench/report.rs src/client.rs src/e2e.rs src/fuzz.rs src/patches.rs src/postgres.rs src/sh.rs src/test.rs src/tools.rs src/wasm_test.rs

src/main.rs:
src/bench/mod.rs:
src/bench/peers.rs:
src/bench/report.rs:
src/client.rs:
src/e2e.rs:
src/fuzz.rs:
src/patches.rs:
src/postgres.rs:
src/sh.rs:
src/test.rs:
src/tools.rs:
src/wasm_test.rs:

# env-dep:CARGO_MANIFEST_DIR=/work/main/xtask
