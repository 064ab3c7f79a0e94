//! The installed package, run by installers/check-packages after `apt-get install ./galen_*.deb`: the app in
//! /usr/bin starts and reaches the first-run screen, and after an upgrade opens the data the older version made.
//! Ignored in the ordinary run (they need the package installed); the check script runs them with
//! GALEN_APP_BIN=/usr/bin/galen-app.

use crate::harness::Driver;
use std::time::Duration;

fn installed() {
    let bin =
        std::env::var("GALEN_APP_BIN").expect("GALEN_APP_BIN names the installed app (see installers/check-packages)");
    assert!(bin.starts_with("/usr/"), "this checks the installed package, not a build: {bin}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the .deb installed: installers/check-packages runs it"]
async fn the_installed_app_reaches_the_first_run_screen() {
    installed();
    let data = tempfile::tempdir().expect("temp dir");
    let d = Driver::start(data.path()).await;
    d.wait_for_text("Set up Galen", Duration::from_secs(30)).await;
    d.screenshot("installed-first-run").await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the .deb upgraded over data from the older one: installers/check-packages runs it"]
async fn the_upgraded_app_opens_the_older_versions_data() {
    installed();
    let data = std::env::var("GALEN_UPGRADE_DATA").expect("GALEN_UPGRADE_DATA: the data the older version made");
    let d = Driver::start(std::path::Path::new(&data)).await;
    d.wait_for_text("Sign in", Duration::from_secs(30)).await;
    d.fill("#login-username", "ana").await;
    d.fill("#login-password", "correct horse battery staple").await;
    d.click("[data-testid=login-form] button[type=submit]").await;
    d.click("[data-nav=patients]").await;
    d.fill("#patient-query", "müller").await;
    d.wait_for_text("MÜLLER", Duration::from_secs(15)).await;
    d.screenshot("installed-upgraded-data").await;
    d.stop().await;
}
