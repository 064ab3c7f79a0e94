fn main() {
    // The UI is embedded at compile time: rebuild whenever a new ui/dist is built (its hashed file names change).
    println!("cargo:rerun-if-changed=../ui/dist");
    println!("cargo:rerun-if-changed=../ui/dist/index.html");
    tauri_build::build()
}
