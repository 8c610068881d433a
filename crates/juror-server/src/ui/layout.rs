//! The page shell every UI page shares: head, top bar, main.

use juror_core::user::Role;
use maud::{html, Markup, DOCTYPE};

use super::session::Web;

/// A page for a logged-in user.
pub(crate) fn page(title: &str, kind: &str, web: &Web, body: Markup) -> Markup {
    let user = &web.caller.user;
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body data-page=(kind) {
                header.topbar {
                    a.brand href="/" { "Juror" }
                    nav {
                        a href="/" { "Datasets" }
                        @if user.role != Role::Annotator { a href="/admin" { "Admin" } }
                        a href="/account" { (user.username) }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(web.csrf);
                            button.link type="submit" { "Log out" }
                        }
                    }
                }
                main { (body) }
                script src="/assets/app.js" defer {}
            }
        }
    }
}

/// A page without a session (login, errors).
pub(crate) fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body data-page="login" {
                header.topbar { a.brand href="/" { "Juror" } }
                main.narrow { (body) }
            }
        }
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Juror" }
            link rel="stylesheet" href="/assets/app.css";
        }
    }
}

/// A `<div class="bar">` filled to `share` (0 to 1), in steps of 5%: inline styles are not
/// allowed by the page's security policy.
pub(crate) fn bar(share: f64, label: &str) -> Markup {
    let step = ((share.clamp(0.0, 1.0) * 20.0).round() as u32) * 5;
    html! { div.bar role="img" aria-label=(label) { span class=(format!("fill w-{step}")) {} } }
}

/// `part` of `whole` as a share, 0 when `whole` is 0.
pub(crate) fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}
