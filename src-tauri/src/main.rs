fn main() {
    galen_app::run()
}
