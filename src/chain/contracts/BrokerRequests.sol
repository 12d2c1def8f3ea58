// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title BrokerRequests
/// @notice One broker's inbox of IPv6 allocation requests. ABI-compatible with the original
///         blockhost-broker V3 contract: the broker answers each request with a direct
///         transaction to the requester (requestId as 8 bytes big-endian, then the ciphertext).
contract BrokerRequests is Ownable {
    bytes4 private constant ERC721_ID = 0x80ac58cd;

    struct Request {
        uint256 id;
        address requester;
        address nftContract;
        bytes encryptedPayload;
        uint256 submittedAt;
    }

    Request[] public requests;
    /// @notice The latest request (1-based id) of an NFT contract; a new one replaces it.
    mapping(address => uint256) public nftContractToRequestId;
    /// @notice 0 available, 1 limited, 2 closed.
    uint8 public capacityStatus;

    event RequestSubmitted(
        uint256 indexed requestId, address indexed requester, address indexed nftContract, bytes encryptedPayload
    );

    constructor() Ownable(msg.sender) {}

    /// @notice Ask for (or renew) an allocation. The caller proves it is the host by owning the
    ///         host's ERC-721 credential contract (its Ownable owner).
    function submitRequest(address nftContract, bytes calldata encryptedPayload) external returns (uint256 requestId) {
        require(nftContract != address(0), "NFT contract is the zero address");
        require(encryptedPayload.length != 0, "empty payload");
        require(nftContract.code.length != 0, "NFT contract has no code");
        require(_supportsErc721(nftContract), "NFT contract is not ERC-721");
        require(_ownerOf(nftContract) == msg.sender, "caller does not own the NFT contract");
        requestId = requests.length + 1;
        requests.push(Request(requestId, msg.sender, nftContract, encryptedPayload, block.timestamp));
        nftContractToRequestId[nftContract] = requestId;
        emit RequestSubmitted(requestId, msg.sender, nftContract, encryptedPayload);
    }

    function setCapacityStatus(uint8 status) external onlyOwner {
        require(status < 3, "status must be 0, 1 or 2");
        capacityStatus = status;
    }

    function getRequest(uint256 requestId) external view returns (Request memory) {
        require(requestId != 0 && requestId <= requests.length, "no such request");
        return requests[requestId - 1];
    }

    function getRequestCount() external view returns (uint256) {
        return requests.length;
    }

    function _supportsErc721(address c) private view returns (bool) {
        try IERC165(c).supportsInterface(ERC721_ID) returns (bool yes) {
            return yes;
        } catch {
            return false;
        }
    }

    function _ownerOf(address c) private view returns (address) {
        (bool ok, bytes memory out) = c.staticcall(abi.encodeWithSignature("owner()"));
        return ok && out.length == 32 ? abi.decode(out, (address)) : address(0);
    }
}
