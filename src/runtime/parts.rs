//! What a booth is made of (`Parts`), put together at start-up for the simulated booth or
//! the Raspberry Pi: the checked settings, the devices, the reviewer, the payment client (and
//! the sandbox behind it), the upload target, and the journal recovered from the last stop.

use std::sync::Arc;

use gradbooth_hal::RgbImage;
use gradbooth_hal::sim::{SimControls, SimLights};

use super::Pace;
use crate::clock::WallClock;
use crate::config::Settings;
use crate::devices::{self, Devices};
use crate::journal::storage::{Storage, StorageError};
use crate::payment::{self, PaymentGateway, SandboxLink};
use crate::review::Reviewer;
use crate::ticket;
use crate::upload::{self, Target};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Config(String),
    #[error("payment: {0}")]
    Payment(String),
    #[error("upload: {0}")]
    Upload(String),
}

pub struct Parts {
    pub settings: Settings,
    pub devices: Devices,
    pub reviewer: Arc<dyn Reviewer>,
    pub payment: Arc<dyn PaymentGateway>,
    /// Where paid photos go (`upload`).
    pub upload: Arc<dyn Target>,
    pub wall_clock: WallClock,
    /// The simulation's hands, when the hardware is simulated.
    pub sim: Option<SimControls>,
    /// The WeChat Pay sandbox the booth pays through, when it does (the debug panel pays it).
    pub sandbox: Option<SandboxLink>,
    /// The simulated booth's own throw-away issuers: of tickets (key id "sim"), for the demo
    /// ticket, and of service codes (`SIM_SERVICE_KEY`), for the demo service code.
    pub sim_issuer: Option<(Arc<ed25519_dalek::SigningKey>, Arc<ed25519_dalek::SigningKey>)>,
    /// The journal and the photo files (already recovered from the last stop).
    pub storage: Arc<Storage>,
    pub pace: Pace,
}

/// The services every booth has: the journal, the payment client, the upload target.
struct Services {
    storage: Arc<Storage>,
    payment: Arc<dyn PaymentGateway>,
    sandbox: Option<SandboxLink>,
    upload: Arc<dyn Target>,
}

fn services(settings: &Settings, wall_clock: WallClock) -> Result<Services, StartError> {
    let storage = match Storage::open(&settings.data_dir, settings.unpaid_retention, wall_clock.now_s()) {
        Ok((storage, _recovery)) => storage,
        // The journal itself cannot be opened: a scratch one, out of service, until a
        // technician sets it aside (the diagnostics mode's storage page).
        Err(StorageError::Journal(e)) => {
            Storage::open_rescue(&settings.data_dir, settings.unpaid_retention, e.to_string())?
        }
        Err(e) => return Err(e.into()),
    };
    let (payment, sandbox) =
        payment::connect(&settings.payment, &settings.file.booth.id).map_err(StartError::Payment)?;
    let upload = upload::target(&settings.upload, &settings.data_dir).map_err(|e| StartError::Upload(e.to_string()))?;
    Ok(Services { storage: Arc::new(storage), payment, sandbox, upload })
}

/// The booth on simulated hardware: devices from `gradbooth_hal::sim`, the configured payment
/// gateway (the WeChat Pay sandbox by default), and the simulated clock from the configuration
/// when it has one. Returns the parts and the simulated lights (so callers can see them).
pub fn simulated(
    mut settings: Settings,
    sitters: Vec<RgbImage>,
    reviewer: Arc<dyn Reviewer>,
) -> Result<(Parts, SimLights), StartError> {
    let wall_clock = settings.sim.clock_start.map_or(WallClock::System, WallClock::simulated);
    let Services { storage, payment, sandbox, upload } = services(&settings, wall_clock)?;
    let (devices, controls, lights) = devices::simulated(&settings.file.hardware, &settings.sim, sitters);
    // A throw-away issuer key, trusted only by this simulated booth, for the demo ticket.
    let issuer = Arc::new(ticket::generate_key());
    settings.issuers.insert("sim", issuer.verifying_key());
    let service_issuer = Arc::new(ticket::generate_key());
    settings.diagnostics.issuers.insert(super::SIM_SERVICE_KEY, service_issuer.verifying_key());
    let parts = Parts {
        devices,
        reviewer,
        payment,
        upload,
        wall_clock,
        sim: Some(controls),
        sandbox,
        sim_issuer: Some((issuer, service_issuer)),
        storage,
        pace: Pace::default(),
        settings,
    };
    Ok((parts, lights))
}

/// The booth on the Raspberry Pi (`devices::pi`). Payment is WeChat Pay with the merchant's
/// keys (the configuration refuses the sandbox here).
pub fn pi(settings: Settings, reviewer: Arc<dyn Reviewer>) -> Result<Parts, StartError> {
    let wall_clock = WallClock::System;
    let Services { storage, payment, sandbox, upload } = services(&settings, wall_clock)?;
    let devices = devices::pi(&settings.file.hardware).map_err(StartError::Config)?;
    Ok(Parts {
        devices,
        reviewer,
        payment,
        upload,
        wall_clock,
        sim: None,
        sandbox,
        sim_issuer: None,
        storage,
        pace: Pace::default(),
        settings,
    })
}
