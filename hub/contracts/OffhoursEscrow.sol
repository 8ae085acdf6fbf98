// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Offhours escrow: pays cumulative EIP-712 vouchers out of a hub's deposit.
/// @notice A hub (payer) deposits an ERC-20 and signs, per payee and token, the running total it
///         owes. Anyone may submit a voucher, so providers need no gas when the hub or a relayer
///         submits; the contract pays `cumulativeAmount - paid` to the voucher's payee, never to the
///         caller, so only the newest voucher matters and a replay pays nothing.
/// @dev Trust model: a voucher is a promise backed by the payer's deposit, not a lock on it. The
///      payer can withdraw its unspent balance at any time, including before outstanding vouchers
///      are redeemed (the contract cannot know about vouchers it has not seen). Providers that want
///      certainty redeem promptly; a payer that withdraws under its promises is visible on chain.
///      Amounts and the voucher layout match protocol/voucher.ts, which the nodes verify offline.
contract OffhoursEscrow {
    struct Voucher {
        address payer;
        address payee;
        address token;
        uint256 cumulativeAmount;
        uint64 expiry;
    }

    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address payer,address payee,address token,uint256 cumulativeAmount,uint64 expiry)");
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant NAME_HASH = keccak256("Offhours Escrow");
    bytes32 private constant VERSION_HASH = keccak256("1");
    /// secp256k1 n / 2: signatures with a higher s are the malleable twin of a valid one (EIP-2).
    uint256 private constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    // Cached for the common case; recomputed if the chain forks so a voucher for one chain id
    // never verifies on the other.
    uint256 private immutable CACHED_CHAIN_ID;
    bytes32 private immutable CACHED_DOMAIN_SEPARATOR;

    /// Unspent deposit per payer and token.
    mapping(address payer => mapping(address token => uint256)) public balanceOf;
    /// What each payer has paid each payee in each token: the total the next voucher must exceed.
    mapping(address payer => mapping(address payee => mapping(address token => uint256))) public paid;

    event Deposited(address indexed payer, address indexed token, address from, uint256 amount);
    event Withdrawn(address indexed payer, address indexed token, uint256 amount);
    event Redeemed(
        address indexed payer, address indexed payee, address indexed token, uint256 cumulativeAmount, uint256 amount, address submitter
    );
    /// A batch voucher that would have reverted on its own; `reason` is that error's selector.
    event VoucherSkipped(uint256 indexed index, address indexed payer, address indexed payee, bytes4 reason);

    error ZeroAmount();
    error InsufficientBalance();
    error VoucherExpired();
    error BadSignature();
    error SignerNotPayer();
    error NotAboveAlreadyPaid();
    error LengthMismatch();
    error TransferFailed(address token, address to);

    constructor() {
        CACHED_CHAIN_ID = block.chainid;
        CACHED_DOMAIN_SEPARATOR = _buildDomainSeparator();
    }

    function DOMAIN_SEPARATOR() public view returns (bytes32) {
        return block.chainid == CACHED_CHAIN_ID ? CACHED_DOMAIN_SEPARATOR : _buildDomainSeparator();
    }

    /// The digest a payer signs for `v` (EIP-712), exposed so clients can check their encoding.
    function voucherDigest(Voucher calldata v) public view returns (bytes32) {
        bytes32 structHash = keccak256(abi.encode(VOUCHER_TYPEHASH, v.payer, v.payee, v.token, v.cumulativeAmount, v.expiry));
        return keccak256(abi.encodePacked("\x19\x01", DOMAIN_SEPARATOR(), structHash));
    }

    function deposit(address token, uint256 amount) external {
        depositFor(msg.sender, token, amount);
    }

    /// Funds `payer`'s balance, so the hub's hot signing key need not hold the treasury.
    function depositFor(address payer, address token, uint256 amount) public {
        if (amount == 0) revert ZeroAmount();
        // Credit what arrived, not what was asked: a fee-on-transfer token must not create credit.
        uint256 before = IERC20(token).balanceOf(address(this));
        _call(token, abi.encodeCall(IERC20.transferFrom, (msg.sender, address(this), amount)), msg.sender);
        uint256 received = IERC20(token).balanceOf(address(this)) - before;
        balanceOf[payer][token] += received;
        emit Deposited(payer, token, msg.sender, received);
    }

    /// Takes back unspent deposit. See the trust model above: this can leave vouchers unbacked.
    function withdraw(address token, uint256 amount) external {
        uint256 balance = balanceOf[msg.sender][token];
        if (amount == 0) revert ZeroAmount();
        if (amount > balance) revert InsufficientBalance();
        balanceOf[msg.sender][token] = balance - amount;
        _call(token, abi.encodeCall(IERC20.transfer, (msg.sender, amount)), msg.sender);
        emit Withdrawn(msg.sender, token, amount);
    }

    /// Pays the voucher's payee what it adds over what was already paid; reverts if it adds nothing.
    function redeem(Voucher calldata v, bytes calldata signature) external returns (uint256 amount) {
        bytes4 reason;
        (reason, amount) = _check(v, signature);
        if (reason != bytes4(0)) {
            assembly {
                mstore(0, reason)
                revert(0, 4)
            }
        }
        _pay(v, amount);
    }

    /// Redeems many vouchers in one transaction. A voucher that would revert on its own is skipped
    /// with VoucherSkipped instead, so one stale or replayed voucher does not waste a relayer's
    /// whole batch. A token transfer that fails still reverts everything (TransferFailed names the
    /// token and payee), because the payment state must not move without the money.
    function redeemBatch(Voucher[] calldata vouchers, bytes[] calldata signatures) external returns (uint256 total) {
        if (vouchers.length != signatures.length) revert LengthMismatch();
        for (uint256 i = 0; i < vouchers.length; ++i) {
            (bytes4 reason, uint256 amount) = _check(vouchers[i], signatures[i]);
            if (reason != bytes4(0)) {
                emit VoucherSkipped(i, vouchers[i].payer, vouchers[i].payee, reason);
                continue;
            }
            _pay(vouchers[i], amount);
            total += amount;
        }
    }

    /// Everything that decides whether `v` pays, without side effects: (0, amount) or (error, 0).
    function _check(Voucher calldata v, bytes calldata signature) private view returns (bytes4, uint256) {
        if (block.timestamp > v.expiry) return (VoucherExpired.selector, 0);
        address signer = _recover(voucherDigest(v), signature);
        if (signer == address(0)) return (BadSignature.selector, 0);
        if (signer != v.payer) return (SignerNotPayer.selector, 0);
        uint256 already = paid[v.payer][v.payee][v.token];
        if (v.cumulativeAmount <= already) return (NotAboveAlreadyPaid.selector, 0);
        uint256 amount = v.cumulativeAmount - already;
        if (amount > balanceOf[v.payer][v.token]) return (InsufficientBalance.selector, 0);
        return (bytes4(0), amount);
    }

    /// State first, then the transfer (checks-effects-interactions): a token that calls back in
    /// finds the voucher already spent.
    function _pay(Voucher calldata v, uint256 amount) private {
        paid[v.payer][v.payee][v.token] = v.cumulativeAmount;
        balanceOf[v.payer][v.token] -= amount;
        _call(v.token, abi.encodeCall(IERC20.transfer, (v.payee, amount)), v.payee);
        emit Redeemed(v.payer, v.payee, v.token, v.cumulativeAmount, amount, msg.sender);
    }

    /// ecrecover with the checks it lacks: 65 bytes, v 27/28, s in the lower half. 0 when refused.
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != 65) return address(0);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v != 27 && v != 28) return address(0);
        if (uint256(s) > HALF_N) return address(0);
        return ecrecover(digest, v, r, s);
    }

    /// Calls an ERC-20 that may return a bool or nothing (USDT-style); anything else is failure.
    function _call(address token, bytes memory data, address to) private {
        if (token.code.length == 0) revert TransferFailed(token, to);
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length != 0 && (ret.length != 32 || !abi.decode(ret, (bool))))) revert TransferFailed(token, to);
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }
}

interface IERC20 {
    function balanceOf(address account) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}
