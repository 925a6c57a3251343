//! The verbs every request of every client ends in, as traits: so that a user who knows
//! one client knows all four, and generic code (a scheduler that stores any measurement
//! request) can take any of them.
//!
//! Each request type also has the verbs as inherent methods; the traits are what a
//! generic function names.

use std::future::Future;
use std::path::Path;

use tokio::io::AsyncWrite;

use super::checkpoint::{Checkpoint, Checkpointed};
use crate::decode::RecordStream;
use crate::file::AtomicFile;
use crate::transport::RequestPreview;

/// A request: it can show what it would send, without sending it.
pub trait Request {
    /// The client crate's error.
    type Error: From<crate::Error> + std::error::Error + Send + Sync + 'static;

    /// The (first) request this would send: method, URL without secrets, query and body.
    /// A request that breaks the API's rules is refused here as it would be on sending.
    fn to_request(&self) -> Result<RequestPreview, Self::Error>;
}

/// `.send()`: one request, one typed response (never a raw transport response).
pub trait Sendable: Request + Sized {
    /// The typed response.
    type Response;

    /// Sends the request and decodes its response.
    fn send(self) -> impl Future<Output = Result<Self::Response, Self::Error>> + Send;
}

/// `.stream()`: every item over every page or window.
pub trait Streamable: Request + Sized {
    /// The item type.
    type Item;

    /// Every item, lazily: nothing is sent until the stream is polled.
    fn stream(self) -> RecordStream<Self::Item, Self::Error>;
}

/// `.pages()`: the page-level (or window-level) stream, where the API pages or the
/// client windows.
pub trait Pageable: Request + Sized {
    /// The page type.
    type Page;

    /// Every page, lazily.
    fn pages(self) -> RecordStream<Self::Page, Self::Error>;
}

/// What a storing verb wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Written {
    /// Requests sent (pages, windows, retries of a refused window).
    pub requests: u64,
    /// Records (lines, rows, elements) written.
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
}

impl Written {
    /// A summary of `requests`, `records` and `bytes`.
    pub fn new(requests: u64, records: u64, bytes: u64) -> Self {
        Written {
            requests,
            records,
            bytes,
        }
    }
}

/// `.copy_to(writer)` and `.write_to(path)`: what the server sent, stored losslessly
/// (its bytes, or for a read of several pages or windows each record's text as sent).
///
/// They store a whole read: on a read resumed from a checkpoint they are refused
/// ([`ClientError::resumed_store`](crate::ClientError::resumed_store)), because a file of
/// the remainder would look complete. To store a file that a killed program finishes,
/// write each page or window of `pages()` and then keep its checkpoint.
pub trait Storable: Request + Sized + Send {
    /// What the store reports ([`Written`], or an API's richer summary).
    type Summary: Send;

    /// Writes to `writer`. On an error the writer holds a partial copy: use
    /// [`Storable::write_to`] when that must never be visible.
    fn copy_to<W>(self, writer: &mut W) -> impl Future<Output = Result<Self::Summary, Self::Error>> + Send
    where
        W: AsyncWrite + Unpin + Send + ?Sized;

    /// Writes to `path` atomically: the file appears complete and synced, or not at all
    /// (a failed read leaves neither the file nor a temporary file).
    fn write_to<P>(self, path: P) -> impl Future<Output = Result<Self::Summary, Self::Error>> + Send
    where
        P: AsRef<Path> + Send,
    {
        async move {
            let mut file = AtomicFile::create(path).await?;
            match self.copy_to(&mut file).await {
                Ok(summary) => {
                    file.commit().await?;
                    Ok(summary)
                }
                Err(err) => {
                    file.abort().await;
                    Err(err)
                }
            }
        }
    }
}

/// `.resume_from(checkpoint)` and `.checkpointed()`: a long read that can stop anywhere
/// and go on from where it stood.
pub trait Resumable: Streamable {
    /// The same read, going on after `checkpoint` (one this read's `checkpointed()` or
    /// `pages()` gave). A checkpoint of another read is refused when the read starts.
    fn resume_from(self, checkpoint: Checkpoint) -> Self;

    /// Every item with the checkpoint right after it.
    fn checkpointed(self) -> RecordStream<Checkpointed<Self::Item>, Self::Error>;
}

/// Implements the verb traits for a client crate's request type by its inherent methods
/// of the same names, so that generic code and the methods can never say different
/// things, and the impls are written once:
///
/// ```ignore
/// client_core::verbs! {
///     impl[T: DeserializeOwned + Send + 'static] DatapointsQuery<T> {
///         error: Error;
///         send: Vec<T>;
///         stream: T;
///         pages: Window<T>;
///         store: Written;
///     }
/// }
/// ```
///
/// `Request` (by `to_request`) is always implemented; each other line implements one
/// verb: `send` ([`Sendable`], its response type), `stream` ([`Streamable`], its item),
/// `pages` ([`Pageable`], its page), `store` ([`Storable`], its summary; by
/// `copy_to`, with the trait's atomic `write_to`) and `resume` ([`Resumable`], after
/// `stream`; by `resume_from` and `checkpointed`).
#[macro_export]
macro_rules! verbs {
    // The generics travel as one bracketed token tree, so each verb's impl can unpack them.
    (impl $generics:tt $request:ty { error: $error:ty; $($verb:ident: $out:ty;)* }) => {
        $crate::verbs!(@request $generics $request, $error);
        $($crate::verbs!(@verb $generics $request, $error, $verb, $out);)*
    };
    (@request [$($generics:tt)*] $request:ty, $error:ty) => {
        impl<$($generics)*> $crate::Request for $request {
            type Error = $error;

            fn to_request(&self) -> ::std::result::Result<$crate::RequestPreview, $error> {
                Self::to_request(self)
            }
        }
    };
    (@verb [$($generics:tt)*] $request:ty, $error:ty, send, $out:ty) => {
        impl<$($generics)*> $crate::Sendable for $request {
            type Response = $out;

            fn send(self) -> impl ::std::future::Future<Output = ::std::result::Result<$out, $error>> + Send {
                Self::send(self)
            }
        }
    };
    (@verb [$($generics:tt)*] $request:ty, $error:ty, stream, $out:ty) => {
        impl<$($generics)*> $crate::Streamable for $request {
            type Item = $out;

            fn stream(self) -> $crate::RecordStream<$out, $error> {
                Self::stream(self)
            }
        }
    };
    (@verb [$($generics:tt)*] $request:ty, $error:ty, pages, $out:ty) => {
        impl<$($generics)*> $crate::Pageable for $request {
            type Page = $out;

            fn pages(self) -> $crate::RecordStream<$out, $error> {
                Self::pages(self)
            }
        }
    };
    (@verb [$($generics:tt)*] $request:ty, $error:ty, resume, $out:ty) => {
        impl<$($generics)*> $crate::Resumable for $request {
            fn resume_from(self, checkpoint: $crate::Checkpoint) -> Self {
                Self::resume_from(self, checkpoint)
            }

            fn checkpointed(self) -> $crate::RecordStream<$crate::Checkpointed<$out>, $error> {
                Self::checkpointed(self)
            }
        }
    };
    (@verb [$($generics:tt)*] $request:ty, $error:ty, store, $out:ty) => {
        impl<$($generics)*> $crate::Storable for $request {
            type Summary = $out;

            fn copy_to<W>(
                self,
                writer: &mut W,
            ) -> impl ::std::future::Future<Output = ::std::result::Result<$out, $error>> + Send
            where
                W: $crate::__private::AsyncWrite + Unpin + Send + ?Sized,
            {
                Self::copy_to(self, writer)
            }
        }
    };
}
