/** Address comparison for the engine (checksum-insensitive). */
import { isAddressEqual, type Hex } from "viem";

export const sameAddress = (a: string | null, b: string | null) => !!a && !!b && isAddressEqual(a as Hex, b as Hex);
