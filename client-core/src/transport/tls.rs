//! Which certificate authorities the HTTPS connections trust.

use crate::error::{Error, Result};

/// The trusted roots of every connection a client makes (API and token endpoint).
///
/// By default: the Mozilla root store bundled in the binary (`webpki-roots`), so
/// containers without a CA bundle work. Networks that inspect TLS need their own
/// authority: add it as PEM with [`TlsRoots::add_pem`], or (feature `native-roots`)
/// trust the operating system's store with `TlsRoots::os_store`.
///
/// ```
/// use client_core::TlsRoots;
/// # let pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/test-cert.pem"))?;
/// let roots = TlsRoots::default().add_pem(&pem)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct TlsRoots {
    extra: Vec<reqwest::Certificate>,
    without_bundled: bool,
    #[cfg(feature = "native-roots")]
    os_store: bool,
}

impl TlsRoots {
    /// Adds every certificate of a PEM bundle as a trusted root. A bundle without a
    /// certificate, or one that does not parse, is a [`crate::ErrorKind::Config`] error.
    pub fn add_pem(mut self, pem: &[u8]) -> Result<Self> {
        let certificates = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::config(format!("the PEM root certificates do not parse: {e}")))?;
        if certificates.is_empty() {
            return Err(Error::config("the PEM bundle holds no certificate"));
        }
        self.extra.extend(certificates);
        Ok(self)
    }

    /// Stops trusting the bundled Mozilla roots (only the added roots, or the
    /// operating system's, remain).
    pub fn without_bundled_roots(mut self) -> Self {
        self.without_bundled = true;
        self
    }

    /// Also trusts the operating system's certificate store (read when a client is
    /// built).
    #[cfg(feature = "native-roots")]
    pub fn os_store(mut self, enabled: bool) -> Self {
        self.os_store = enabled;
        self
    }

    /// How many roots were added besides the built-in ones.
    pub fn added(&self) -> usize {
        self.extra.len()
    }

    pub(crate) fn apply(&self, mut builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        builder = builder.tls_built_in_webpki_certs(!self.without_bundled);
        #[cfg(feature = "native-roots")]
        {
            builder = builder.tls_built_in_native_certs(self.os_store);
        }
        for certificate in &self.extra {
            builder = builder.add_root_certificate(certificate.clone());
        }
        builder
    }
}

impl std::fmt::Debug for TlsRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut debug = f.debug_struct("TlsRoots");
        debug
            .field("bundled", &!self.without_bundled)
            .field("added", &self.extra.len());
        #[cfg(feature = "native-roots")]
        debug.field("os_store", &self.os_store);
        debug.finish()
    }
}
