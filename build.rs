//! Compiles the touchscreen UI (`ui/app.slint`) with the English translation bundled in.
//! Debug info is kept so tests can find elements by their accessible labels.

fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("ui/lang")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(true);
    slint_build::compile_with_config("ui/app.slint", config).expect("ui/app.slint should compile");
}
