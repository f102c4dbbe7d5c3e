//! The reference documents stay true: `docs/http-api.md` names every route
//! and every error code of the OpenAPI document, and `docs/configuration.md`
//! every configuration key of the schema.

use authjar_server::config::schema::{Key, KEYS, PROVIDER_KEYS};

fn doc(name: &str) -> String {
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{} is required: {e}", path.display()))
}

fn missing_from(text: &str, wanted: impl IntoIterator<Item = String>) -> Vec<String> {
    wanted
        .into_iter()
        .filter(|w| !text.contains(w.as_str()))
        .collect()
}

#[test]
fn http_api_lists_every_error_code() {
    let openapi = authjar_axum::openapi_document();
    let codes: Vec<String> = openapi["x-error-codes"]
        .as_array()
        .expect("x-error-codes is an array")
        .iter()
        .map(|c| {
            c["code"]
                .as_str()
                .expect("each entry has a code")
                .to_owned()
        })
        .collect();
    assert!(codes.len() > 10, "x-error-codes looks empty: {codes:?}");
    let missing = missing_from(&doc("http-api.md"), codes.iter().map(|c| format!("`{c}`")));
    assert!(
        missing.is_empty(),
        "docs/http-api.md lacks the error codes {missing:?}"
    );
}

#[test]
fn http_api_lists_every_route_with_its_method() {
    let openapi = authjar_axum::openapi_document();
    let paths = openapi["paths"].as_object().expect("paths is an object");
    assert!(
        paths.len() > 10,
        "the OpenAPI document has few paths: {paths:?}"
    );
    let mut wanted = Vec::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.contains_key(method) {
                wanted.push(format!("`{} {path}`", method.to_ascii_uppercase()));
            }
        }
    }
    // Served, but not part of its own document.
    wanted.push("`GET /openapi.json`".to_owned());
    let missing = missing_from(&doc("http-api.md"), wanted);
    assert!(
        missing.is_empty(),
        "docs/http-api.md lacks the routes {missing:?}"
    );
}

#[test]
fn configuration_lists_every_key() {
    let wanted = KEYS
        .iter()
        .filter(|k| k.name != Key::BASE_URL)
        .chain(PROVIDER_KEYS)
        .map(|k| format!("`{}`", k.name));
    let missing = missing_from(&doc("configuration.md"), wanted);
    assert!(
        missing.is_empty(),
        "docs/configuration.md lacks the keys {missing:?}"
    );
}

#[test]
fn configuration_gives_the_environment_form_of_every_key() {
    let wanted = KEYS
        .iter()
        .filter(|k| k.name != Key::BASE_URL)
        .map(|k| {
            format!(
                "`AUTHJAR_{}`",
                k.name.to_ascii_uppercase().replace('.', "__")
            )
        })
        .chain(PROVIDER_KEYS.iter().map(|k| {
            format!(
                "`AUTHJAR_OAUTH__<PROVIDER>__{}`",
                k.name.to_ascii_uppercase()
            )
        }));
    let missing = missing_from(&doc("configuration.md"), wanted);
    assert!(
        missing.is_empty(),
        "docs/configuration.md lacks the variables {missing:?}"
    );
}
