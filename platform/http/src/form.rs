//! Form bodies whose failures the endpoint answers itself. poem-openapi's `Form<T>`
//! refuses a wrong content type (415) or an unparsable form before the handler runs,
//! as problem+json; an OAuth token endpoint must answer those with its own error format
//! (RFC 6749 §5.2 `invalid_request`), so [`FormBody`] hands the failure to the handler.

use poem::{FromRequest, Request, RequestBody};
use poem_openapi::registry::{MetaMediaType, MetaRequest, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;

pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// An `application/x-www-form-urlencoded` body as `T`, or why it is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormBody<T>(pub Result<T, String>);

impl<'a, T: Type + DeserializeOwned + Send> ApiExtractor<'a> for FormBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: FORM_CONTENT_TYPE,
                schema: T::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let essence = request.content_type().map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
        if essence.as_deref() != Some(FORM_CONTENT_TYPE) {
            return Ok(Self(Err(format!("the body must be {FORM_CONTENT_TYPE}"))));
        }
        Ok(Self(
            <poem::web::Form<T> as FromRequest>::from_request(request, body)
                .await
                .map(|form| form.0)
                .map_err(|err| format!("the form cannot be read: {err}")),
        ))
    }
}
