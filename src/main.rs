//! The `gradbooth` command: the booth itself (default), and its tools (`tools::cli`).

fn main() -> anyhow::Result<()> {
    gradbooth::tools::cli::main()
}
