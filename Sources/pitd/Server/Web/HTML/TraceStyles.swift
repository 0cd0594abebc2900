/// The stylesheet's rules for the trace waterfall and the flame graph, part of
/// `Layout.stylesheet`. Bars and frames are SVG, coloured through classes and presentation
/// attributes: the pages' Content-Security-Policy allows no inline styles.
enum TraceStyles {
    static let css: String = {
        var css = """
            .wf{background:var(--bg);border:1px solid var(--line);border-radius:6px;overflow:hidden;margin-bottom:8px}
            .wf-row{display:grid;grid-template-columns:minmax(0,42%) minmax(0,1fr) 80px;align-items:center;border-top:1px solid #f1eef4;min-height:25px}
            .wf-row:first-child{border-top:0}.wf-row:hover{background:#fbfaff}.wf-row>div{padding:2px 8px;min-width:0}
            .wf-head{background:var(--bg2);font-size:11px;text-transform:uppercase;letter-spacing:.4px;color:var(--muted);font-weight:600;min-height:28px;border-bottom:1px solid var(--line)}
            .wf-axis{display:flex;justify-content:space-between;text-transform:none;letter-spacing:0;font-weight:400;font-variant-numeric:tabular-nums}
            .wf-name{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;font-size:12px}
            .wf-op{font-weight:600;color:var(--fg)}.wf-desc{color:#5b4f66}.wf-tx{background:#f8f6fd}.wf-tx .wf-desc{font-weight:600;color:var(--accent)}
            .wf-current{background:#efeafc}.wf-current:hover{background:#e9e3fb}
            .wf-svg{display:block;width:100%;height:16px}.wf-grid{stroke:#ebe7f0;stroke-width:1;vector-effect:non-scaling-stroke;fill:none}
            .wf-b{fill:#a396da}.wf-b-tx{fill:#6c5fc7}.wf-b.wf-b-failed{fill:#e1334d}.wf-mark{fill:#e1334d}
            .wf-op0{fill:#8f84d9}.wf-op1{fill:#3d9bc7}.wf-op2{fill:#2ba185}.wf-op3{fill:#e0a800}.wf-op4{fill:#f5853f}.wf-op5{fill:#c765b4}.wf-op6{fill:#5b83d6}.wf-op7{fill:#7aa33a}
            .wf-dur{font-size:12px;color:var(--muted);font-variant-numeric:tabular-nums}
            a.wf-error,span.wf-error{color:#c4213b;font-weight:600;font-size:11px}.wf-error::before{content:"● "}.wf-orphan{background:#fff8f9}
            .wf-errcount{color:#c4213b;font-weight:600}
            .badge.wf-status{background:#fdecef;border-color:#f5c0c9;color:#a5182f}.badge.wf-profile{background:#e9f7f2;border-color:#b5e3d4;color:#1c7a62}
            .wf-depth{display:inline-block;min-width:18px;padding:0 4px;margin-right:4px;border-radius:8px;background:var(--bg2);border:1px solid var(--line);font-size:10px;text-align:center;color:var(--muted)}
            .trace-link{margin-top:6px}.trace-id{font:600 18px ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;word-break:break-all}
            .flame-card{padding:8px;overflow-x:auto}svg.flame{display:block;width:100%;height:auto;min-width:800px;font:11px ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
            svg.flame text{fill:#241b2c;pointer-events:none}svg.flame g:hover rect{stroke:#2f1d4a;stroke-width:1}
            .flame-legend{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;margin-top:8px}svg.swatch{width:10px;height:10px;vertical-align:-1px}

            """
        for depth in 0...WaterfallView.maxIndent { css += ".wf .wf-d\(depth){padding-left:\(8 + depth * 14)px}" }
        return css + "\n"
    }()
}
