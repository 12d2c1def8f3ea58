// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Enumerable} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721Enumerable.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title AccessCredentialNFT
/// @notice One token per paid VM. The owner (the host's server wallet) mints it with the
///         connection details encrypted for the subscriber; login never queries the chain.
/// @dev Token ids start at 0 (the first mint is the admin credential). There is no burn.
contract AccessCredentialNFT is ERC721Enumerable, Ownable {
    uint256 private _nextTokenId;
    mapping(uint256 tokenId => bytes) private _userEncrypted;

    event CredentialMinted(uint256 indexed tokenId, address indexed recipient);
    event CredentialUpdated(uint256 indexed tokenId);

    constructor(string memory name_, string memory symbol_) ERC721(name_, symbol_) Ownable(msg.sender) {}

    /// @notice Mint the next credential to `to` carrying `userEncrypted`; returns its token id.
    function mint(address to, bytes calldata userEncrypted) external onlyOwner returns (uint256 tokenId) {
        tokenId = _nextTokenId++;
        _userEncrypted[tokenId] = userEncrypted;
        _safeMint(to, tokenId);
        emit CredentialMinted(tokenId, to);
    }

    /// @notice Replace a credential's encrypted payload (e.g. after the VM's address changed).
    function updateUserEncrypted(uint256 tokenId, bytes calldata data) external onlyOwner {
        require(_ownerOf(tokenId) != address(0), "Token does not exist");
        _userEncrypted[tokenId] = data;
        emit CredentialUpdated(tokenId);
    }

    /// @notice The encrypted payload of an existing token.
    function getUserEncrypted(uint256 tokenId) external view returns (bytes memory) {
        require(_ownerOf(tokenId) != address(0), "Token does not exist");
        return _userEncrypted[tokenId];
    }
}
