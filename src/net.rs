//! The booth's network set-up, shared by the WeChat Pay client and the object store: TLS is
//! rustls with ring as its cryptography (the same ring that signs WeChat Pay requests), so
//! the build carries one crypto library and no C crypto build.

use std::sync::Once;

/// Installs ring as rustls's process-wide provider; call before building any HTTP client.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Fails only when a provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A boxed future, as the service seams (`PaymentGateway`, `upload::Target`) return them.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
