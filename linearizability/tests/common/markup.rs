//! A small reader of the markup the picture writes (HTML with inline SVG): elements with their
//! attributes and text, so that tests look at structure rather than at substrings.
//! It knows only what the picture uses: no entities beyond the five it escapes and `&#10;`.

/// An element: its name, attributes and children.
#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// A child: an element or text.
#[derive(Debug, Clone)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    /// The attribute `name`, unescaped.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The attribute `name` as a number; panics if missing or not a number.
    pub fn num(&self, name: &str) -> f64 {
        let v = self
            .attr(name)
            .unwrap_or_else(|| panic!("<{}> has no {name}", self.name));
        v.parse()
            .unwrap_or_else(|_| panic!("<{}> {name}={v:?} is not a number", self.name))
    }

    /// Whether the class attribute holds `class`.
    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_whitespace().any(|c| c == class))
    }

    /// Every element below this one (not itself), in document order.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        for child in &self.children {
            if let Node::Element(e) = child {
                out.push(e);
                out.extend(e.descendants());
            }
        }
        out
    }

    /// The descendants named `name` with class `class` (any class if empty).
    pub fn find(&self, name: &str, class: &str) -> Vec<&Element> {
        self.descendants()
            .into_iter()
            .filter(|e| e.name == name && (class.is_empty() || e.has_class(class)))
            .collect()
    }

    /// The direct children that are elements named `name`.
    pub fn children_named(&self, name: &str) -> Vec<&Element> {
        self.children
            .iter()
            .filter_map(|c| match c {
                Node::Element(e) if e.name == name => Some(e),
                _ => None,
            })
            .collect()
    }

    /// All text inside, concatenated.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for child in &self.children {
            match child {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => out.push_str(&e.text()),
            }
        }
        out
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#10;", "\n")
        .replace("&amp;", "&")
}

/// Parses `text` into a root element named `#document`; panics on a tag that does not close.
pub fn parse(text: &str) -> Element {
    let mut stack = vec![Element {
        name: "#document".into(),
        attrs: Vec::new(),
        children: Vec::new(),
    }];
    let mut rest = text;
    while !rest.is_empty() {
        let Some(open) = rest.find('<') else {
            push_text(&mut stack, rest);
            break;
        };
        push_text(&mut stack, &rest[..open]);
        rest = &rest[open..];
        let close = rest.find('>').expect("a tag that ends");
        let tag = &rest[1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let done = stack.pop().expect("an open element");
            assert_eq!(done.name, name.trim(), "mismatched closing tag");
            stack
                .last_mut()
                .expect("a parent")
                .children
                .push(Node::Element(done));
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attrs_text) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        let mut attrs = Vec::new();
        loop {
            attrs_text = attrs_text.trim_start();
            if attrs_text.is_empty() {
                break;
            }
            let end = attrs_text
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(attrs_text.len());
            let key = attrs_text[..end].to_string();
            attrs_text = &attrs_text[end..];
            if let Some(after) = attrs_text.strip_prefix("=\"") {
                let q = after.find('"').expect("a closing quote");
                attrs.push((key, unescape(&after[..q])));
                attrs_text = &after[q + 1..];
            } else {
                attrs.push((key, String::new()));
            }
        }
        let element = Element {
            name: name.to_string(),
            attrs,
            children: Vec::new(),
        };
        if self_closing || name == "meta" {
            stack
                .last_mut()
                .expect("a parent")
                .children
                .push(Node::Element(element));
        } else if name == "script" || name == "style" {
            let end = rest.find(&format!("</{name}>")).expect("a closed script");
            let mut element = element;
            element.children.push(Node::Text(rest[..end].to_string()));
            rest = &rest[end + name.len() + 3..];
            stack
                .last_mut()
                .expect("a parent")
                .children
                .push(Node::Element(element));
        } else {
            stack.push(element);
        }
    }
    assert_eq!(
        stack.len(),
        1,
        "unclosed elements: {:?}",
        stack.last().map(|e| &e.name)
    );
    stack.pop().expect("the document")
}

fn push_text(stack: &mut [Element], text: &str) {
    if let Some(top) = stack.last_mut().filter(|_| !text.is_empty()) {
        top.children.push(Node::Text(unescape(text)));
    }
}
