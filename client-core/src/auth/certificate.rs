//! An RSA private key with its certificate, loaded from PKCS#12 or PEM.

use std::fmt;
use std::path::Path;

use ring::rand::SystemRandom;
use ring::signature::RsaKeyPair;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::{ExposeSecret, SecretString};

use super::REDACTED;
use super::assertion::{AssertionSigner, JwsAlgorithm};
use super::jwt::b64url;
use crate::error::{Error, Result};

/// A certificate and its RSA private key, used to sign client assertions
/// (`private_key_jwt`). Load it from a PKCS#12/PFX file with its password, or from PEM.
///
/// Only RSA keys of 2048 bits or more are supported (what Entra ID accepts).
pub struct CertificateKey {
    key: RsaKeyPair,
    cert_der: Vec<u8>,
    x5t_s256: String,
    algorithm: JwsAlgorithm,
    rng: SystemRandom,
}

impl CertificateKey {
    /// Loads a PKCS#12 (PFX) archive. A wrong password gives a clear error.
    pub fn from_pkcs12(der: &[u8], password: &SecretString) -> Result<Self> {
        let store = p12_keystore::KeyStore::from_pkcs12(
            der,
            password.expose_secret(),
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .map_err(|e| {
            let reason = match e {
                p12_keystore::error::Error::MacError(_) => {
                    "wrong password (the archive's integrity check failed)".to_owned()
                }
                other => other.to_string(),
            };
            Error::config(format!("cannot open the PKCS#12 certificate: {reason}"))
        })?;
        let (_, chain) = store
            .private_key_chain()
            .ok_or_else(|| Error::config("the PKCS#12 archive holds no private key with a certificate"))?;
        let key = rsa_key_from_pkcs8(chain.key().as_der())?;
        let certs: Vec<&[u8]> = chain.certs().iter().map(|c| c.as_der()).collect();
        Self::from_parts(key, &certs)
    }

    /// Loads a PKCS#12 (PFX) file.
    pub fn from_pkcs12_file(path: impl AsRef<Path>, password: &SecretString) -> Result<Self> {
        let path = path.as_ref();
        let der = std::fs::read(path)
            .map_err(|e| Error::config(format!("cannot read certificate file {}: {e}", path.display())))?;
        Self::from_pkcs12(&der, password)
    }

    /// Loads a PEM certificate (chain, leaf first) and a PEM private key (PKCS#8
    /// `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`). Both may be in one file.
    pub fn from_pem(cert_pem: &[u8], key_pem: &SecretString) -> Result<Self> {
        let certs = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::config(format!("cannot read the PEM certificate: {e}")))?;
        if certs.is_empty() {
            return Err(Error::config("the PEM input holds no CERTIFICATE block"));
        }
        // The key error says nothing of the key's content.
        let key = PrivateKeyDer::from_pem_slice(key_pem.expose_secret().as_bytes())
            .map_err(|_| Error::config("the PEM input holds no readable private key block"))?;
        let key = match key {
            PrivateKeyDer::Pkcs8(der) => rsa_key_from_pkcs8(der.secret_pkcs8_der())?,
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der())
                .map_err(|e| Error::config(format!("unsupported RSA private key: {e}")))?,
            _ => {
                return Err(Error::config(
                    "the private key is not an RSA key (only RSA is supported)",
                ));
            }
        };
        let certs: Vec<&[u8]> = certs.iter().map(|c| c.as_ref()).collect();
        Self::from_parts(key, &certs)
    }

    /// Loads PEM files (they may be the same file).
    pub fn from_pem_files(cert_path: impl AsRef<Path>, key_path: impl AsRef<Path>) -> Result<Self> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))
        };
        let cert = read(cert_path.as_ref())?;
        let key = String::from_utf8(read(key_path.as_ref())?)
            .map_err(|_| Error::config("the private key file is not PEM text"))?;
        Self::from_pem(&cert, &SecretString::from(key))
    }

    /// Signs with RS256 instead of the default PS256.
    pub fn with_algorithm(mut self, algorithm: JwsAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The DER of the certificate that matches the key.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    fn from_parts(key: RsaKeyPair, certs: &[&[u8]]) -> Result<Self> {
        // The certificate's SubjectPublicKeyInfo holds the RSAPublicKey DER verbatim, so the
        // certificate of this key is the one that contains those bytes.
        let public = key.public().as_ref();
        let cert_der = certs
            .iter()
            .find(|der| der.windows(public.len()).any(|w| w == public))
            .ok_or_else(|| Error::config("no certificate in the input matches the private key"))?
            .to_vec();
        let x5t_s256 = b64url(ring::digest::digest(&ring::digest::SHA256, &cert_der).as_ref());
        Ok(CertificateKey {
            key,
            cert_der,
            x5t_s256,
            algorithm: JwsAlgorithm::Ps256,
            rng: SystemRandom::new(),
        })
    }
}

fn rsa_key_from_pkcs8(der: &[u8]) -> Result<RsaKeyPair> {
    RsaKeyPair::from_pkcs8(der).map_err(|e| {
        Error::config(format!(
            "unsupported private key (an RSA key of at least 2048 bits is required): {e}"
        ))
    })
}

impl fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateKey")
            .field("x5t#S256", &self.x5t_s256)
            .field("algorithm", &self.algorithm)
            .field("private_key", &REDACTED)
            .finish()
    }
}

impl AssertionSigner for CertificateKey {
    fn algorithm(&self) -> JwsAlgorithm {
        self.algorithm
    }

    fn x5t_s256(&self) -> String {
        self.x5t_s256.clone()
    }

    fn sign<'a>(&'a self, signing_input: &'a [u8]) -> futures::future::BoxFuture<'a, Result<Vec<u8>>> {
        let padding: &'static dyn ring::signature::RsaEncoding = match self.algorithm {
            JwsAlgorithm::Ps256 => &ring::signature::RSA_PSS_SHA256,
            JwsAlgorithm::Rs256 => &ring::signature::RSA_PKCS1_SHA256,
        };
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        let result = self
            .key
            .sign(padding, &self.rng, signing_input, &mut signature)
            .map(|()| signature)
            .map_err(|_| Error::auth("signing the client assertion failed"));
        Box::pin(std::future::ready(result))
    }
}
