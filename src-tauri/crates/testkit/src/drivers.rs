//! Drivers pointed at the fakes, with timeouts short enough for tests.

use std::time::Duration;

use hostdesk_remote::{
    AegirConfig, AegirDriver, CaddyConfig, CaddyDriver, HttpConfig, PollConfig, RemoteError,
    Secret, WhmConfig, WhmDriver,
};

use crate::{FakeAegir, FakeWhm, RealCaddy};

/// Connect 1 s, whole request 2 s.
pub fn test_http() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(2),
    }
}

/// Poll every 10 ms, give up after 2 s.
pub fn test_poll() -> PollConfig {
    PollConfig {
        interval: Duration::from_millis(10),
        timeout: Duration::from_secs(2),
    }
}

pub fn aegir_config(fake: &FakeAegir) -> Result<AegirConfig, RemoteError> {
    let mut c = AegirConfig::new(
        &fake.base_url(),
        Secret::new(fake.api_key()),
        &fake.master_domain(),
    )?;
    c.http = test_http();
    c.poll = test_poll();
    Ok(c)
}

pub fn aegir_driver(fake: &FakeAegir) -> Result<AegirDriver, RemoteError> {
    AegirDriver::new(aegir_config(fake)?)
}

pub fn whm_config(fake: &FakeWhm) -> Result<WhmConfig, RemoteError> {
    let mut c = WhmConfig::new(&fake.base_url(), &fake.user(), Secret::new(fake.token()))?;
    c.http = test_http();
    Ok(c)
}

pub fn whm_driver(fake: &FakeWhm) -> Result<WhmDriver, RemoteError> {
    WhmDriver::new(whm_config(fake)?)
}

pub fn caddy_driver(caddy: &RealCaddy) -> Result<CaddyDriver, RemoteError> {
    let mut c = CaddyConfig::new(&caddy.admin_url(), RealCaddy::SERVER)?;
    c.http = test_http();
    CaddyDriver::new(c)
}
