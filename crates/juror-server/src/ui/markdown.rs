//! Markdown to HTML that is safe to show: model outputs and guidelines are untrusted.
//!
//! The text is rendered with pulldown-cmark (images turned into plain links, so nothing remote
//! loads) and the HTML then passes ammonia's allow-list: no scripts, no event handlers, no
//! `javascript:` or relative URLs, no inline styles. The page's Content-Security-Policy is the
//! second wall.

use std::sync::OnceLock;

use ammonia::{Builder, UrlRelative};
use maud::{html, Markup, PreEscaped};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// `text` as sanitized HTML.
pub(crate) fn render(text: &str) -> Markup {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(text, options).map(|event| match event {
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => Event::Start(Tag::Link { link_type, dest_url, title, id }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut unsafe_html = String::with_capacity(text.len() + text.len() / 4);
    pulldown_cmark::html::push_html(&mut unsafe_html, events);
    PreEscaped(sanitizer().clean(&unsafe_html).to_string())
}

/// `text` shown as it is, line breaks kept.
pub(crate) fn plain(text: &str) -> Markup {
    html! { div.plain { (text) } }
}

fn sanitizer() -> &'static Builder<'static> {
    static SANITIZER: OnceLock<Builder<'static>> = OnceLock::new();
    SANITIZER.get_or_init(|| {
        let mut builder = Builder::default();
        builder
            .rm_tags(["img"])
            .url_schemes(["http", "https", "mailto"].into())
            .url_relative(UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer nofollow"));
        builder
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(text: &str) -> String {
        render(text).into_string()
    }

    #[test]
    fn markdown_renders() {
        let html = rendered("# Title\n\nSome **bold** and `code`.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```rust\nfn main() {}\n```");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<code>code</code>"));
        assert!(html.contains("<table>"));
        assert!(html.contains("<pre><code"));
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = rendered(
            "Hi <script>alert(1)</script> <img src=x onerror=alert(2)> <a href=\"javascript:alert(3)\">x</a> \
             [link](javascript:alert(4)) <div onclick=\"alert(5)\" style=\"color:red\">d</div> <iframe src=\"https://e.com\"></iframe>",
        );
        for forbidden in ["<script", "alert(1)", "onerror", "<img", "javascript:", "onclick", "style=", "<iframe"] {
            assert!(!html.contains(forbidden), "`{forbidden}` survived in {html}");
        }
        assert!(html.contains(">d</div>"), "{html}");
    }

    #[test]
    fn images_become_links_and_links_are_marked() {
        let html = rendered("![a cat](https://example.com/cat.png) and [site](https://example.com)");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains(r#"href="https://example.com/cat.png""#), "{html}");
        assert!(html.contains("a cat"));
        assert!(html.contains(r#"rel="noopener noreferrer nofollow""#), "{html}");
    }

    #[test]
    fn plain_text_is_escaped() {
        let html = plain("<b>not bold</b>").into_string();
        assert!(html.contains("&lt;b&gt;not bold&lt;/b&gt;"), "{html}");
    }
}
