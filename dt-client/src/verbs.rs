//! The SDK's verb traits on this crate's request types, written once: each trait method
//! calls the request's inherent method of the same name, so that generic code and the
//! methods can never say different things.

/// Implements [`Request`](client_core::Request) for a request type generic over its
/// record type, by its inherent `to_request`.
macro_rules! request_verb {
    ($request:ident) => {
        impl<T: serde::de::DeserializeOwned + Send + 'static> client_core::Request for $request<T> {
            type Error = crate::Error;

            fn to_request(&self) -> crate::Result<client_core::RequestPreview> {
                $request::to_request(self)
            }
        }
    };
}

/// Implements [`Request`](client_core::Request), [`Sendable`](client_core::Sendable)
/// (the first page), [`Streamable`](client_core::Streamable) (every record) and
/// [`Pageable`](client_core::Pageable) (every page) for a paged request type generic
/// over its record type, by its inherent methods.
macro_rules! paged_verbs {
    ($request:ident) => {
        crate::verbs::request_verb!($request);

        impl<T: serde::de::DeserializeOwned + Send + 'static> client_core::Sendable for $request<T> {
            type Response = client_core::Page<T>;

            fn send(self) -> impl Future<Output = crate::Result<client_core::Page<T>>> + Send {
                $request::send(self)
            }
        }

        impl<T: serde::de::DeserializeOwned + Send + 'static> client_core::Streamable for $request<T> {
            type Item = T;

            fn stream(self) -> client_core::RecordStream<T, crate::Error> {
                $request::stream(self)
            }
        }

        impl<T: serde::de::DeserializeOwned + Send + 'static> client_core::Pageable for $request<T> {
            type Page = client_core::Page<T>;

            fn pages(self) -> client_core::RecordStream<client_core::Page<T>, crate::Error> {
                $request::pages(self)
            }
        }
    };
}

pub(crate) use {paged_verbs, request_verb};
