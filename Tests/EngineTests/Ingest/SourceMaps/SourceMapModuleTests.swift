import PitIngest
import Testing

/// A resolved browser frame's module, as Sentry makes it up from the URL (its `generate_module`
/// cases).
@Suite struct SourceMapModuleTests {
    @Test(arguments: [
        ("http://example.com/foo.js", "foo"),
        ("http://example.com/foo/bar.js", "foo/bar"),
        ("http://example.com/js/foo/bar.js", "foo/bar"),
        ("http://example.com/javascript/foo/bar.js", "foo/bar"),
        ("http://example.com/1.0/foo/bar.js", "foo/bar"),
        ("http://example.com/v1/foo/bar.js", "foo/bar"),
        ("http://example.com/v1.0.0/foo/bar.js", "foo/bar"),
        ("http://example.com/_baz/foo/bar.js", "foo/bar"),
        ("http://example.com/1/2/3/foo/bar.js", "foo/bar"),
        ("http://example.com/abcdef0/foo/bar.js", "foo/bar"),
        ("http://example.com/92cd589eca8235e7b373bf5ae94ebf898e3b949c/foo/bar.js", "foo/bar"),
        ("http://example.com/7d6d00eae0ceccdc7ee689659585d95f/foo/bar.js", "foo/bar"),
        ("http://example.com/foo/bar.coffee", "foo/bar"),
        ("http://example.com/foo/bar.js?v=1234", "foo/bar"),
        ("http://example.com/foo/bar.min.js", "foo/bar"),
        ("http://example.com/foo/bar-7d6d00eae0ceccdc7ee689659585d95f.js", "foo/bar"),
        ("http://example.com/bower_components/foo/bar.js", "foo/bar"),
        ("http://example.com/node_modules/foo/bar.js", "foo/bar"),
        ("http://example.com/static/js/foo/bar.a5b0d5f9.js", "foo/bar"),
        ("webpack:///./app/components/App.jsx", "app/components/App"),
        ("webpack://fixture/src/app.js", "src/app"),
        ("app:///index.android.bundle", "index.android"),
    ])
    func moduleFromURL(url: String, module: String) {
        #expect(SourceMapResolver.module(forURL: url) == module)
    }

    @Test func otherSchemesGetNone() {
        #expect(SourceMapResolver.module(forURL: "file:///home/app/src/app.js") == nil)
        #expect(SourceMapResolver.module(forURL: "src/app.js") == nil)
    }
}
