//! A small XML reader for registrar replies: elements, attributes, text, the five predefined
//! entities and numeric character references; the declaration, comments and CDATA are handled,
//! DTDs are not (no registrar sends one). Namespaces are dropped: `ns:Name` reads as `Name`.

/// One element with its attributes, text and children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// An attribute's value (case-sensitive name).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first element named `name` at any depth (this one included).
    pub fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }

    /// The trimmed text of the first descendant named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.find(name)
            .map(|e| e.text.trim())
            .filter(|t| !t.is_empty())
    }
}

/// Escapes text for an attribute value or element content.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let end = tail
            .find(';')
            .ok_or_else(|| format!("unterminated entity near '{}'", excerpt(tail)))?;
        let name = &tail[..end];
        match name {
            "amp" => out.push('&'),
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            n if n.starts_with("#x") || n.starts_with("#X") => out.push(
                u32::from_str_radix(&n[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad character reference &{n};"))?,
            ),
            n if n.starts_with('#') => out.push(
                n[1..]
                    .parse::<u32>()
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad character reference &{n};"))?,
            ),
            n => return Err(format!("unknown entity &{n};")),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn excerpt(s: &str) -> String {
    s.chars().take(30).collect()
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_owned()
}

/// Parses a document and returns its root element.
pub fn parse(doc: &str) -> Result<Element, String> {
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut rest = doc.trim_start_matches('\u{feff}');
    loop {
        let Some(lt) = rest.find('<') else {
            if !rest.trim().is_empty() {
                return Err(format!("text after the document: '{}'", excerpt(rest)));
            }
            break;
        };
        let text = &rest[..lt];
        if let Some(top) = stack.last_mut() {
            top.text.push_str(&unescape(text)?);
        } else if !text.trim().is_empty() {
            return Err(format!(
                "text outside the root element: '{}'",
                excerpt(text)
            ));
        }
        rest = &rest[lt..];
        if let Some(r) = rest.strip_prefix("<?") {
            let end = r.find("?>").ok_or("unterminated declaration")?;
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").ok_or("unterminated comment")?;
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").ok_or("unterminated CDATA")?;
            if let Some(top) = stack.last_mut() {
                top.text.push_str(&r[..end]);
            }
            rest = &r[end + 3..];
        } else if rest.starts_with("<!") {
            return Err("DTDs are not supported".into());
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or("unterminated end tag")?;
            let name = local(r[..end].trim());
            let el = stack
                .pop()
                .ok_or_else(|| format!("</{name}> closes nothing"))?;
            if el.name != name {
                return Err(format!("<{}> closed by </{name}>", el.name));
            }
            match stack.last_mut() {
                Some(parent) => parent.children.push(el),
                None if root.is_none() => root = Some(el),
                None => return Err("more than one root element".into()),
            }
            rest = &r[end + 1..];
        } else {
            let (el, empty, after) = start_tag(&rest[1..])?;
            rest = after;
            if empty {
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None if root.is_none() => root = Some(el),
                    None => return Err("more than one root element".into()),
                }
            } else {
                if stack.is_empty() && root.is_some() {
                    return Err("more than one root element".into());
                }
                stack.push(el);
            }
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{}> is never closed", open.name));
    }
    root.ok_or_else(|| "no element".into())
}

/// Reads `Name attr="v" ...>` or `.../>`; returns the element, whether it is empty, and the rest.
fn start_tag(s: &str) -> Result<(Element, bool, &str), String> {
    let name_end = s
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .ok_or("unterminated start tag")?;
    let mut el = Element {
        name: local(&s[..name_end]),
        ..Element::default()
    };
    if el.name.is_empty() {
        return Err("an element without a name".into());
    }
    let mut rest = &s[name_end..];
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("/>") {
            return Ok((el, true, r));
        }
        if let Some(r) = rest.strip_prefix('>') {
            return Ok((el, false, r));
        }
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("bad attribute in <{}>", el.name))?;
        let key = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let quote = after
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
            .ok_or_else(|| format!("unquoted attribute {key} in <{}>", el.name))?;
        let body = &after[1..];
        let close = body
            .find(quote)
            .ok_or_else(|| format!("unterminated attribute {key} in <{}>", el.name))?;
        if !key.starts_with("xmlns") {
            el.attrs.push((local(key), unescape(&body[..close])?));
        }
        rest = &body[close + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_namecheap_reply() {
        let doc = r#"<?xml version="1.0" encoding="utf-8"?>
<ApiResponse Status="OK" xmlns="http://api.namecheap.com/xml.response">
  <Errors />
  <!-- a comment -->
  <CommandResponse Type="namecheap.domains.check">
    <DomainCheckResult Domain="a&amp;b.com" Available="true" />
    <DomainCheckResult Domain='c.com' Available="false"/>
  </CommandResponse>
  <Server>WEB&#49;</Server>
</ApiResponse>"#;
        let r = parse(doc).unwrap();
        assert_eq!(r.name, "ApiResponse");
        assert_eq!(r.attr("Status"), Some("OK"));
        let cr = r.child("CommandResponse").unwrap();
        let results: Vec<_> = cr.all("DomainCheckResult").collect();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].attr("Domain"), Some("a&b.com"));
        assert_eq!(results[1].attr("Available"), Some("false"));
        assert_eq!(r.text_of("Server"), Some("WEB1"));
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn refuses_broken_documents() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "<html><body>Please log in",
            "<a x=1/>",
            "<a>&nope;</a>",
            "not xml",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
