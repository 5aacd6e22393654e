//! The supervisors' charts, drawn on the server as SVG: bars that link to the cases they
//! count and carry a deadline target, and stacked columns for trends over time.
//!
//! It exists beside [`super::view::bar_chart`] (the plain chart of the reports page) because
//! the dashboard's charts are navigation: each bar is a link to the queue filtered to exactly
//! the cases it counts, so a bar is an `<a>` with its own accessible name, and the chart is a
//! group of links rather than one image. No script and no inline style (the CSP forbids both):
//! colours come from the same CSS classes as the queue's countdowns.

use super::view::esc;

/// One bar: its label, value, the value as shown, the colour class, where it links and the
/// target (a deadline, in the value's unit) drawn across it.
pub(crate) struct LinkBar {
    pub label: String,
    pub value: f64,
    pub text: String,
    /// `ok`, `warn`, `critical`, `breached` or `suspended`: the queue's urgency classes.
    pub class: &'static str,
    pub href: Option<String>,
    pub target: Option<f64>,
}

const LABEL_W: f64 = 200.0;
const BAR_W: f64 = 340.0;
const ROW_H: f64 = 26.0;

/// A horizontal bar chart whose bars link to `href` and show their `target` as a mark; the
/// full width is `scale` (a share's 1.0), or else the largest value or target.
pub(crate) fn link_bars(title: &str, bars: &[LinkBar], scale: Option<f64>) -> String {
    let max = scale
        .unwrap_or_else(|| {
            bars.iter()
                .map(|b| b.value.max(b.target.unwrap_or(0.0)))
                .fold(0.0_f64, f64::max)
        })
        .max(1e-9);
    let width = LABEL_W + BAR_W + 280.0;
    let height = ROW_H * bars.len().max(1) as f64 + 8.0;
    let mut svg = format!(
        "<svg class=\"chart\" role=\"group\" aria-label=\"{t}\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>",
        t = esc(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + ROW_H * i as f64;
        let w = (b.value / max * BAR_W).max(if b.value > 0.0 { 2.0 } else { 0.0 });
        let mut body = format!(
            "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\" class=\"chart-label\">{}</text>\
             <rect x=\"{LABEL_W}\" y=\"{y:.0}\" width=\"{w:.1}\" height=\"{:.0}\" class=\"bar {}\"/>",
            LABEL_W - 8.0,
            y + 17.0,
            esc(&b.label),
            ROW_H - 6.0,
            b.class,
        );
        let text = &b.text;
        let mut end = w;
        if let Some(t) = b.target {
            let x = LABEL_W + t / max * BAR_W;
            body.push_str(&format!(
                "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.0}\" y2=\"{:.0}\" class=\"deadline-mark\"/>",
                y - 1.0,
                y + ROW_H - 5.0,
            ));
            end = end.max(t / max * BAR_W);
        }
        body.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.0}\" class=\"chart-value\">{}</text>",
            LABEL_W + end + 6.0,
            y + 17.0,
            esc(text)
        ));
        match &b.href {
            Some(href) => svg.push_str(&format!(
                "<a href=\"{}\" class=\"bar-link\" aria-label=\"{}: {}\">{body}</a>",
                esc(href),
                esc(&b.label),
                esc(&b.text)
            )),
            None => svg.push_str(&format!("<g>{body}</g>")),
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One column of a trend: its label (shown under every few columns) and stacked parts
/// (value, colour class), bottom first.
pub(crate) struct Column {
    pub label: String,
    pub parts: Vec<(f64, &'static str)>,
}

/// A column chart of `columns` (a time series), stacked, with the highest total as its scale.
pub(crate) fn columns(title: &str, columns: &[Column]) -> String {
    let max = columns
        .iter()
        .map(|c| c.parts.iter().map(|p| p.0).sum::<f64>())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let (left, plot_h, plot_w) = (40.0, 160.0, 600.0);
    let col_w = plot_w / columns.len().max(1) as f64;
    let (width, height) = (left + plot_w + 10.0, plot_h + 40.0);
    let mut svg = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>\
         <text x=\"{:.0}\" y=\"14\" text-anchor=\"end\" class=\"chart-label\">{max}</text>\
         <line x1=\"{left}\" x2=\"{:.0}\" y1=\"{:.0}\" y2=\"{:.0}\" class=\"axis\"/>",
        left - 4.0,
        left + plot_w,
        10.0 + plot_h,
        10.0 + plot_h,
        t = esc(title)
    );
    let every = columns.len().div_ceil(6).max(1);
    for (i, c) in columns.iter().enumerate() {
        let x = left + col_w * i as f64;
        let mut base = 10.0 + plot_h;
        for (v, class) in &c.parts {
            let h = v / max * plot_h;
            if h > 0.0 {
                base -= h;
                svg.push_str(&format!(
                    "<rect x=\"{:.1}\" y=\"{base:.1}\" width=\"{:.1}\" height=\"{h:.1}\" class=\"bar {class}\"/>",
                    x + 1.0,
                    (col_w - 2.0).max(1.0)
                ));
            }
        }
        if i % every == 0 {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.0}\" class=\"chart-label\">{}</text>",
                x,
                plot_h + 30.0,
                esc(&c.label)
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: f64, href: Option<&str>, target: Option<f64>) -> LinkBar {
        LinkBar {
            label: label.into(),
            value,
            text: format!("{value}"),
            class: "warn",
            href: href.map(String::from),
            target,
        }
    }

    #[test]
    fn bars_link_escaped_and_targets_scale_with_values() {
        let svg = link_bars(
            "t",
            &[
                bar(
                    "<x>",
                    1.0,
                    Some("/queue?urgency=warn&status=all"),
                    Some(2.0),
                ),
                bar("b", 0.5, None, None),
            ],
            None,
        );
        assert!(svg.contains("<a href=\"/queue?urgency=warn&amp;status=all\""));
        assert!(svg.contains("&lt;x&gt;") && !svg.contains("<x>"));
        // The target (2) is the scale's top: the bar of 1 is half the width, the mark at
        // the end.
        assert!(svg.contains("width=\"170.0\""), "{svg}");
        assert!(svg.contains("x1=\"540.0\""), "{svg}");
        assert_eq!(svg.matches("<a ").count(), 1);
        assert!(!svg.contains("style="));
        // A share drawn against its whole: 0.5 of 1 is half the width.
        let share = link_bars("p", &[bar("l", 0.5, None, None)], Some(1.0));
        assert!(share.contains("width=\"170.0\""), "{share}");
    }

    #[test]
    fn columns_stack_their_parts() {
        let svg = columns(
            "trend",
            &[
                Column {
                    label: "a".into(),
                    parts: vec![(3.0, "ok"), (1.0, "breached")],
                },
                Column {
                    label: "b".into(),
                    parts: vec![(0.0, "ok")],
                },
            ],
        );
        // Highest total 4 → 160 px: 3 → 120 px on the axis, 1 → 40 px above it.
        assert!(svg.contains("y=\"50.0\" width=\"298.0\" height=\"120.0\" class=\"bar ok\""));
        assert!(svg.contains("y=\"10.0\" width=\"298.0\" height=\"40.0\" class=\"bar breached\""));
        assert_eq!(svg.matches("<rect").count(), 2);
    }
}
