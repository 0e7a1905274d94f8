// Child process for the ledger lock tests: opens a ledger for a run and waits to be killed.
import { Ledger } from "../../src/ledger/ledger.ts";

const path = process.argv[process.argv.length - 1] ?? "";
const ledger = Ledger.openForRun(path);
process.stdout.write("locked\n");
setInterval(() => ledger.pendingWrites, 1000);
